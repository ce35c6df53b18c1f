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
type Layout struct {
	Prefix    string
	Interface string
}

// The two layouts.
var (
	Replace = Layout{Prefix: kubePrefix, Interface: model.DummyInterface}
	Scoped  = Layout{Prefix: "SVCI-", Interface: "svctrace-ipvs0"}
)

const kubePrefix = "KUBE-"

// Name renames one of kube-proxy's names into the layout.
func (l Layout) Name(kube string) string {
	if l.Prefix == kubePrefix || !strings.HasPrefix(kube, kubePrefix) {
		return kube
	}
	return l.Prefix + strings.TrimPrefix(kube, kubePrefix)
}
