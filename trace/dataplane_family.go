package trace

import (
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/knftables"

	"github.com/svctrace/kubectl-svctrace/dataplane"
	"github.com/svctrace/kubectl-svctrace/dataplane/iptables"
	"github.com/svctrace/kubectl-svctrace/dataplane/ipvs"
	"github.com/svctrace/kubectl-svctrace/dataplane/nftables"
)

// familyDump is a node's iptables-save dump of one IP family and what its
// rules say of kube-proxy's settings for that family (kube-proxy runs one
// proxier per family, each with its own cluster CIDR).
type familyDump struct {
	dump          *iptables.Dump
	name, savedAt string
	flags         dataplane.ProxyFlags
}

// iptablesDumps sorts the iptables dumps given by the family of their
// rules: IPTables by what its rules match, IPTables6 as IPv6 (the reader
// refuses two dumps of one family).
func iptablesDumps(d *DataplaneInput) map[corev1.IPFamily]*familyDump {
	out := map[corev1.IPFamily]*familyDump{}
	if d.IPTables != nil {
		flags, v6 := iptables.InferFlags(d.IPTables)
		f := corev1.IPv4Protocol
		if v6 {
			f = corev1.IPv6Protocol
		}
		out[f] = &familyDump{d.IPTables, d.IPTablesName, d.IPTablesSavedAt, flags}
	}
	if d.IPTables6 != nil {
		flags, _ := iptables.InferFlags(d.IPTables6)
		out[corev1.IPv6Protocol] = &familyDump{d.IPTables6, d.IPTables6Name, d.IPTables6SavedAt, flags}
	}
	return out
}

// hasDumps reports whether any node dump was given.
func (d *DataplaneInput) hasDumps() bool {
	return d.IPTables != nil || d.IPTables6 != nil || d.NFT != nil || d.IPVS != nil
}

// dumpFamilies orders the families of the dumps: the Service's, primary
// first. A dump of another family alone is still shown (its view says the
// Service has no cluster IP of that family: the wrong dump was given);
// beside a dump of the Service's family it is left out.
func dumpFamilies[T any](s *corev1.Service, have map[corev1.IPFamily]T) []corev1.IPFamily {
	var out []corev1.IPFamily
	for _, f := range familiesInOrder(s) {
		if _, ok := have[f]; ok {
			out = append(out, f)
		}
	}
	if len(out) > 0 {
		return out
	}
	for _, f := range []corev1.IPFamily{corev1.IPv4Protocol, corev1.IPv6Protocol} {
		if _, ok := have[f]; ok {
			out = append(out, f)
		}
	}
	return out
}

// nftFamilies are the Service's families whose kube-proxy table the
// ruleset holds (kube-proxy writes one table per family: ip and ip6),
// primary first; the primary alone when it holds neither, so the missing
// table is reported.
func nftFamilies(s *corev1.Service, rs *nftables.Ruleset) []corev1.IPFamily {
	var out []corev1.IPFamily
	for _, f := range familiesInOrder(s) {
		if rs.KubeProxy(nftFamily(f)) != nil {
			out = append(out, f)
		}
	}
	if len(out) == 0 {
		return familiesInOrder(s)[:1]
	}
	return out
}

func nftFamily(f corev1.IPFamily) knftables.Family {
	if f == corev1.IPv6Protocol {
		return knftables.IPv6Family
	}
	return knftables.IPv4Family
}

// ipvsFamily is IPVS mode judged for one IP family of a dual-stack
// Service. kube-proxy's IPVS mode keeps both families in one table; the
// trace shows each family as its own view (its walks start from a client
// of that family), so each view expects only its family's virtual servers
// and bound addresses and no difference is reported twice.
type ipvsFamily struct {
	ipvs.Proxier
	family corev1.IPFamily
}

// Expect implements dataplane.Proxier.
func (p ipvsFamily) Expect(n dataplane.Node, objs dataplane.Objects) (*ipvs.Want, error) {
	w, err := p.Proxier.Expect(n, objs)
	if err != nil {
		return nil, err
	}
	for i := range w.Expected {
		w.Expected[i] = w.Expected[i].OfFamily(p.family == corev1.IPv6Protocol)
	}
	return w, nil
}
