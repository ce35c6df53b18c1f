package trace

import (
	"fmt"
	"net/netip"

	corev1 "k8s.io/api/core/v1"

	"github.com/svctrace/kubectl-svctrace/dataplane"
)

// DataplaneNotChecked is reported when the rules could not be generated or
// walked (a corrupt dump), so the dataplane hop is missing.
const DataplaneNotChecked = "DataplaneNotChecked"

// dataplaneFindings fills t.Dataplane: the iptables view (from a dump, or
// generated when no dump of another mode was given), and nftables and IPVS
// views for their dumps, plus stale conntrack entries.
func dataplaneFindings(in Input, t *Trace) []Finding {
	s := in.Service
	if s.Spec.Type == corev1.ServiceTypeExternalName || t.Service.Headless || len(t.Service.ClusterIPs) == 0 {
		return nil
	}
	if in.Dataplane == nil {
		in.Dataplane = &DataplaneInput{}
	}
	d := in.Dataplane
	if d.IPTables == nil && d.NFT == nil && d.IPVS == nil && in.unread(slicesResource) {
		// Rules generated from endpoints nobody could read would show a
		// REJECT that is not there.
		v := resolveNode(in, t)
		t.Dataplane = append(t.Dataplane, DataplaneHop{Node: v.name, Mode: "iptables", Walks: []dataplane.Walk{}, Chains: []dataplane.Listing{},
			Note: "the EndpointSlices could not be read, so the rules kube-proxy should write are unknown; pass a node's --iptables-save (or --nft, --ipvs) to walk its real rules"})
		return nil
	}
	var out []Finding
	base, nodeNote := pickNode(in, t, resolveNode(in, t))
	for i, vw := range views(in, base) {
		hop, fs, err := vw.hop(in, vw.v)
		if err != nil {
			out = append(out, Finding{ID: DataplaneNotChecked, Severity: SeverityWarning, Subject: "node/" + vw.v.name,
				Message: "could not follow the Service through the node's rules: " + err.Error(),
				Hint:    "check the dump is complete and from this node (iptables-save, nft -j list ruleset, ipvsadm-save -n)"})
			continue
		}
		if in.Dataplane.EveryEntry {
			hop.Walks = append(hop.Walks, otherEntryWalks(in, base, i)...)
		}
		hop.NodeNote = nodeNote
		finishHop(hop, vw.v, in.Dataplane.Port, t)
		t.Dataplane = append(t.Dataplane, *hop)
		out = append(out, fs...)
	}
	if in.Dataplane.ConntrackName != "" {
		out = append(out, conntrackFindings(in, t)...)
	}
	return out
}

// otherEntryWalks are the walks of the i-th view from the entries other
// than base's, each with a source fitting it. Their findings repeat the
// first walk's drift and are dropped.
func otherEntryWalks(in Input, base nodeView, i int) []dataplane.Walk {
	var walks []dataplane.Walk
	for _, entry := range dataplane.Entries {
		if entry == base.from {
			continue
		}
		v := base
		v.from = entry
		v.src = defaultSource(v, in)
		vws := views(in, v)
		if i >= len(vws) {
			continue
		}
		if hop, _, err := vws[i].hop(in, vws[i].v); err == nil {
			walks = append(walks, hop.Walks...)
		}
	}
	return walks
}

// view is one dataplane hop to build: a mode's builder and whose view.
type view struct {
	hop func(Input, nodeView) (*DataplaneHop, []Finding, error)
	v   nodeView
}

// views picks the hops: the dumps given, or, with none, what each IP
// family's iptables proxier should write.
func views(in Input, v nodeView) []view {
	d := in.Dataplane
	var out []view
	switch {
	case d.IPTables != nil && v.proxy.ipv6:
		out = append(out, view{iptablesHop, v.forFamily(corev1.IPv6Protocol, in)})
	case d.IPTables != nil:
		out = append(out, view{iptablesHop, v.forFamily(corev1.IPv4Protocol, in)})
	case d.NFT == nil && d.IPVS == nil:
		for _, f := range familiesInOrder(in.Service) {
			out = append(out, view{iptablesHop, v.forFamily(f, in)})
		}
	}
	if d.NFT != nil {
		out = append(out, view{nftHop, v})
	}
	if d.IPVS != nil {
		out = append(out, view{ipvsHop, v})
	}
	return out
}

// finishHop fills what every hop needs for output: a node name, lists that
// are never null, a note when nothing was walked, and judged outcomes.
func finishHop(hop *DataplaneHop, v nodeView, port string, t *Trace) {
	if hop.Node == "" {
		hop.Node = "(unknown node)"
	}
	if hop.Walks == nil {
		hop.Walks = []dataplane.Walk{}
		hop.Note = noWalkNote(v, port, t)
	}
	if hop.Chains == nil {
		hop.Chains = []dataplane.Listing{}
	}
	judgeOutcomes(hop, t)
}

// noWalkNote explains an empty list of walks.
func noWalkNote(v nodeView, port string, t *Trace) string {
	switch {
	case v.from == dataplane.EntryExternal && len(v.ips) == 0 && hasNodePort(t):
		family := ""
		if v.family == corev1.IPv6Protocol {
			family = "IPv6 "
		}
		return fmt.Sprintf("no packet from outside to walk: node %s has no %saddress to receive the NodePort on", v.name, family)
	case v.from == dataplane.EntryExternal:
		return "no packet from outside to walk: the Service has no NodePort, LoadBalancer IP or external IP"
	case port != "":
		return "no Service port named or numbered " + port
	}
	return "no packet to walk: the Service has no cluster IP of this family"
}

func hasNodePort(t *Trace) bool {
	for _, p := range t.Ports {
		if p.NodePort != 0 {
			return true
		}
	}
	return false
}

// familiesInOrder lists the Service's IP families, primary first.
func familiesInOrder(s *corev1.Service) []corev1.IPFamily {
	if len(s.Spec.IPFamilies) > 0 {
		return s.Spec.IPFamilies
	}
	return []corev1.IPFamily{corev1.IPv4Protocol}
}

// judgeOutcomes marks DNAT targets that are not endpoints of the Service
// and explains packets that leave the rules untranslated.
func judgeOutcomes(hop *DataplaneHop, t *Trace) {
	current := map[string]bool{}
	for _, p := range t.Ports {
		for _, e := range p.Endpoints {
			if e.Ready || (e.Serving && e.Terminating) {
				ip, err := netip.ParseAddr(e.Address)
				if err == nil {
					current[netip.AddrPortFrom(ip, uint16(e.Port)).String()] = true
				}
			}
		}
	}
	for i := range hop.Walks {
		w := &hop.Walks[i]
		for j := range w.Outcomes {
			o := &w.Outcomes[j]
			switch {
			case o.Verdict == dataplane.VerdictDNAT && !current[o.Target]:
				o.NotEndpoint = true
			case o.Untranslated:
				o.Path = fmt.Sprintf("no rule translates it: the packet goes to %s unchanged and the connection fails", w.Packet.DestString())
			}
		}
	}
}
