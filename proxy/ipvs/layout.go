package ipvs

import (
	"strings"

	model "github.com/svctrace/kubectl-svctrace/dataplane/ipvs"
)

// Layout decides the names of what the programmer owns: the dummy
// interface Service addresses are bound to, and the prefix of its ip sets
// and iptables chains.
//
// Replace mode uses kube-proxy's own names (kube-ipvs0, KUBE-CLUSTER-IP,
// KUBE-SERVICES, …), so a node looks exactly like one kube-proxy serves in
// IPVS mode. Scoped mode binds to svctrace-ipvs0 and replaces "KUBE-" with
// "SVCI-": a prefix of the same length, as ipset names are limited to 31
// characters and kube-proxy's longest (KUBE-NODE-PORT-LOCAL-SCTP-HASH) has
// 30; and another one than iptables mode's "SVCT-", so that one mode's
// --cleanup never removes the other's chains.
//
// IPv6 is the layout of the IPv6 proxier: the same interface and chain
// names (in ip6tables), and ip sets named as kube-proxy's IPv6 proxier
// names them (SetName).
type Layout struct {
	Prefix    string
	Interface string
	IPv6      bool
}

// The two layouts.
var (
	Replace = Layout{Prefix: kubePrefix, Interface: model.DummyInterface}
	Scoped  = Layout{Prefix: "SVCI-", Interface: "svctrace-ipvs0"}
)

const kubePrefix = "KUBE-"

// maxSetName is the longest name the kernel takes for an ip set
// (IPSET_MAXNAMELEN less its terminating NUL).
const maxSetName = 31

// Family returns l for the IPv6 proxier when v6, for the IPv4 one otherwise.
func (l Layout) Family(v6 bool) Layout {
	l.IPv6 = v6
	return l
}

// Name renames one of kube-proxy's chain names into the layout.
func (l Layout) Name(kube string) string {
	if l.Prefix == kubePrefix || !strings.HasPrefix(kube, kubePrefix) {
		return kube
	}
	return l.Prefix + strings.TrimPrefix(kube, kubePrefix)
}

// SetName renames one of kube-proxy's ip set names into the layout. The
// IPv6 proxier's sets are kube-proxy's with "KUBE-" replaced by "KUBE-6-",
// cut to the kernel's 31 characters (pkg/proxy/ipvs NewIPSet), so that
// KUBE-NODE-PORT-LOCAL-SCTP-HASH becomes KUBE-6-NODE-PORT-LOCAL-SCTP-HAS;
// then the layout's prefix replaces "KUBE-" as for chains (SVCI-6-…).
func (l Layout) SetName(kube string) string {
	if l.IPv6 && strings.HasPrefix(kube, kubePrefix) {
		kube = kubePrefix + "6-" + strings.TrimPrefix(kube, kubePrefix)
		kube = kube[:min(len(kube), maxSetName)]
	}
	return l.Name(kube)
}
