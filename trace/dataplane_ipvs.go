package trace

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/svctrace/kubectl-svctrace/dataplane"
	"github.com/svctrace/kubectl-svctrace/dataplane/ipvs"
)

// ipvsHop walks the node's IPVS table and compares it with kube-proxy's
// IPVS mode for the Service.
func ipvsHop(in Input, v nodeView) (*DataplaneHop, []Finding, error) {
	d := in.Dataplane
	exp, err := ipvs.ExpectedFor(in.Service, slicePtrs(in.EndpointSlices), ipvs.Node{Name: v.name, IPs: v.ips, Zone: v.zone})
	if err != nil {
		return nil, nil, err
	}
	hop := &DataplaneHop{Node: v.name, Mode: "ipvs", Source: d.IPVSName}
	drift := driftUnlessUnread(in, func() []dataplane.Diff { return ipvs.Drift(exp, *d.IPVS) })
	if d.IPVSLocalName != "" {
		// Needs no endpoints: the addresses come from the Service alone.
		drift = append(drift, ipvs.BindingDrift(exp, d.IPVSLocal)...)
	}
	findings := diffFindings(drift, "ipvs/", ipvs.Place, in.Name)
	for _, p := range servicePackets(in.Service, v, d.Port) {
		dst := p.Dest
		w := dataplane.Walk{Packet: p}
		if d.IPVSLocalName != "" && p.From != dataplane.EntryNode && slices.Contains(exp.Bound, dst) && !slices.Contains(d.IPVSLocal, dst) {
			// Not a local address: a pod's or outside client's packet is
			// routed on and IPVS never sees it. The node's own packets
			// meet IPVS on the way out (LOCAL_OUT) all the same.
			w.Outcomes = []dataplane.Outcome{{Verdict: dataplane.VerdictAccept, Probability: 1, Path: dst.String() + " not local (not on " + ipvs.DummyInterface + ") → not proxied",
				Note: dst.String() + " is not a local address of the node, so IPVS does not see the packet"}}
			hop.Walks = append(hop.Walks, w)
			continue
		}
		res := ipvs.Walk(*d.IPVS, ipvs.Protocol(strings.ToUpper(p.Protocol)), dst, p.Port)
		if !res.Found {
			w.Outcomes = []dataplane.Outcome{{Verdict: dataplane.VerdictAccept, Probability: 1, Path: "no IPVS virtual server → not proxied", Note: "no IPVS virtual server for " + dst.String()}}
		}
		vsName := res.VirtualServer.Key()
		for _, o := range res.Outcomes {
			w.Outcomes = append(w.Outcomes, dataplane.Outcome{Verdict: dataplane.VerdictDNAT, Target: o.RealServer.Key(), Probability: o.Probability,
				Path:   fmt.Sprintf("virtual server %s (%s) → %s", vsName, res.VirtualServer.Scheduler, o.RealServer.Key()),
				Chains: []string{vsName}, Masquerade: ipvsMasquerade(p, v, in.Service, o.RealServer.Address), Note: res.Note})
		}
		hop.Walks = append(hop.Walks, w)
	}
	hop.Chains = ipvsListings(exp, *d.IPVS)
	if d.IPVSLocalName != "" {
		hop.Chains = append(hop.Chains, boundListing(exp, d.IPVSLocal))
	}
	hop.Chains = markIPVSDrift(hop.Chains, drift)
	return hop, findings, nil
}

// ipvsListings lists, for each virtual server kube-proxy should have made
// for the Service, the node's one with its real servers; one the node lacks
// is listed empty, for its drift mark.
func ipvsListings(exp ipvs.Expected, t ipvs.Table) []dataplane.Listing {
	var out []dataplane.Listing
	for _, want := range exp.VirtualServers {
		name := want.Key()
		if slices.ContainsFunc(out, func(l dataplane.Listing) bool { return l.Name == name }) {
			continue
		}
		l := dataplane.Listing{Name: name, Rules: []dataplane.RuleLine{}, ServicePort: want.PortName, Kind: dataplane.ListingVirtualServer, Where: ipvs.At(want.VirtualServer, nil)}
		if got, ok := t.Lookup(want.Protocol, want.Address, want.Port); ok {
			l.Rules = append(l.Rules, dataplane.RuleLine{Text: fmt.Sprintf("virtual server %s scheduler %s", got.Key(), got.Scheduler),
				Kind: dataplane.LineHeading, Where: ipvs.At(got, nil)})
			for _, rsv := range got.RealServers {
				l.Rules = append(l.Rules, dataplane.RuleLine{Text: fmt.Sprintf("-> %s weight %d %s", rsv.Key(), rsv.Weight, rsv.Forward),
					Kind: dataplane.LineMember, Where: ipvs.At(got, &rsv)})
			}
		}
		out = append(out, l)
	}
	return out
}

// boundListing shows which of the Service's addresses are local to the node.
func boundListing(exp ipvs.Expected, local []netip.Addr) dataplane.Listing {
	l := dataplane.Listing{Name: ipvs.DummyInterface, Rules: []dataplane.RuleLine{}, Kind: dataplane.ListingAddresses}
	for _, a := range exp.Bound {
		if slices.Contains(local, a) {
			l.Rules = append(l.Rules, dataplane.RuleLine{Text: "inet " + a.String() + " local", Where: dataplane.Locator{Mode: dataplane.ModeIPVS, Address: a}})
		} else {
			l.Rules = append(l.Rules, dataplane.RuleLine{Text: "inet " + a.String() + " not a local address", Drift: ipvs.AddressNotBound, Where: dataplane.Locator{Mode: dataplane.ModeIPVS, Address: a}})
		}
	}
	return l
}

// ipvsMasquerade says whether the iptables rules kube-proxy's IPVS mode
// writes (writeIptablesRules) mark the packet for masquerade. IPVS's own
// "Masq" forwarding only rewrites the destination. Marked are hairpin
// traffic (KUBE-LOOP-BACK), traffic from outside unless
// externalTrafficPolicy is Local, and cluster IP traffic from outside the
// cluster CIDR when it is known.
func ipvsMasquerade(p dataplane.Packet, v nodeView, svc *corev1.Service, backend netip.Addr) bool {
	switch {
	case p.Source == backend:
		return true
	case p.From == dataplane.EntryExternal:
		return svc.Spec.ExternalTrafficPolicy != corev1.ServiceExternalTrafficPolicyLocal
	}
	return p.Source.IsValid() && v.clusterCIDR.IsValid() && !v.clusterCIDR.Contains(p.Source)
}
