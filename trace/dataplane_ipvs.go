package trace

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

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
	var findings []Finding
	drift := driftUnlessUnread(in, func() []ipvs.Finding { return ipvs.Drift(exp, *d.IPVS) })
	if d.IPVSBoundName != "" {
		// Needs no endpoints: the addresses come from the Service alone.
		drift = append(drift, ipvs.BindingDrift(exp, d.IPVSBound)...)
	}
	for _, f := range drift {
		findings = append(findings, Finding{ID: f.ID, Severity: severityOf(f.ID), Subject: "ipvs/" + f.Subject,
			Message: diffMessage(f.Message, f.Expected, f.Actual), Hint: dataplaneHint(f.ID, in.Name)})
	}
	for _, p := range servicePackets(in.Service, v, d.Port) {
		dst, _ := netip.ParseAddr(p.Dest)
		w := PacketWalk{Packet: p}
		if d.IPVSBoundName != "" && slices.Contains(exp.Bound, dst) && !slices.Contains(d.IPVSBound, dst) {
			// Not a local address: the packet is routed on, IPVS never sees it.
			w.Outcomes = []Outcome{{Verdict: "ACCEPT", Probability: 1, Path: p.Dest + " not bound to " + ipvs.DummyInterface + " → not proxied",
				Note: p.Dest + " is not a local address of the node, so IPVS does not see the packet"}}
			hop.Walks = append(hop.Walks, w)
			continue
		}
		res := ipvs.Walk(*d.IPVS, ipvs.Protocol(strings.ToUpper(p.Protocol)), dst, uint16(p.Port))
		if !res.Found {
			w.Outcomes = []Outcome{{Verdict: "ACCEPT", Probability: 1, Path: "no IPVS virtual server → not proxied", Note: "no IPVS virtual server for " + p.Dest}}
		}
		vsName := res.VirtualServer.Key()
		for _, o := range res.Outcomes {
			w.Outcomes = append(w.Outcomes, Outcome{Verdict: "DNAT", Target: o.RealServer.Key(), Probability: o.Probability,
				Path:   fmt.Sprintf("virtual server %s (%s) → %s", vsName, res.VirtualServer.Scheduler, o.RealServer.Key()),
				Chains: []string{vsName}, Masquerade: o.RealServer.Forward == ipvs.Masquerade, Note: res.Note})
		}
		hop.Walks = append(hop.Walks, w)
		if res.Found {
			l := ChainListing{Name: vsName, Rules: []RuleLine{{Text: fmt.Sprintf("virtual server %s scheduler %s", vsName, res.VirtualServer.Scheduler)}}}
			for _, rsv := range res.VirtualServer.RealServers {
				l.Rules = append(l.Rules, RuleLine{Text: fmt.Sprintf("-> %s weight %d %s", rsv.Key(), rsv.Weight, rsv.Forward)})
			}
			hop.Chains = append(hop.Chains, l)
		}
	}
	if d.IPVSBoundName != "" {
		hop.Chains = append(hop.Chains, boundListing(exp, d.IPVSBound))
	}
	hop.Chains = markIPVSDrift(hop.Chains, drift)
	return hop, findings, nil
}

// boundListing shows which of the Service's addresses kube-ipvs0 holds.
func boundListing(exp ipvs.Expected, bound []netip.Addr) ChainListing {
	l := ChainListing{Name: ipvs.DummyInterface, Rules: []RuleLine{}}
	for _, a := range exp.Bound {
		if slices.Contains(bound, a) {
			l.Rules = append(l.Rules, RuleLine{Text: "inet " + a.String() + " bound"})
		} else {
			l.Rules = append(l.Rules, RuleLine{Text: "inet " + a.String() + " not bound", Drift: ipvs.AddressNotBound})
		}
	}
	return l
}
