package trace

import (
	"fmt"
	"net/netip"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/knftables"

	"github.com/svctrace/kubectl-svctrace/dataplane/conntrack"
	"github.com/svctrace/kubectl-svctrace/dataplane/ipvs"
	"github.com/svctrace/kubectl-svctrace/dataplane/nftables"
)

// nftHop walks the node's nftables ruleset and compares it with what
// kube-proxy's nftables mode should have written for the Service.
func nftHop(in Input, v nodeView) (*DataplaneHop, []Finding, error) {
	d := in.Dataplane
	family := knftables.IPv4Family
	if len(in.Service.Spec.IPFamilies) > 0 && in.Service.Spec.IPFamilies[0] == corev1.IPv6Protocol {
		family = knftables.IPv6Family
	}
	opts := nftables.ExpectOptions{Family: family, NodeName: v.name}
	if v.clusterCIDR.IsValid() {
		opts.ClusterCIDR = v.clusterCIDR.String()
	}
	exp, err := nftables.Expected(in.Service, slicePtrs(in.EndpointSlices), opts)
	if err != nil {
		return nil, nil, err
	}
	hop := &DataplaneHop{Node: v.name, Mode: "nftables", Source: d.NFTName}
	table := d.NFT.KubeProxy(family)
	var findings []Finding
	for _, diff := range driftUnlessUnread(in, func() []nftables.Difference { return nftables.Drift(exp, table) }) {
		findings = append(findings, Finding{ID: diff.ID, Severity: severityOf(diff.ID), Subject: "nftables/" + diff.Subject,
			Message: diffMessage(diff.Message, diff.Expected, diff.Actual), Hint: dataplaneHint(diff.ID, in.Name)})
	}
	entry := map[string]nftables.Entry{"pod": nftables.EntryPod, "node": nftables.EntryNode, "external": nftables.EntryExternal}
	for _, p := range servicePackets(in.Service, v, d.Port) {
		dst, _ := netip.ParseAddr(p.Dest)
		outs, err := nftables.Walk(d.NFT, nftables.Packet{Proto: p.Protocol, Src: v.src, Dst: dst, DstPort: uint16(p.Port), Entry: entry[p.From]}, nftables.WalkOptions{LocalAddrs: v.ips})
		if err != nil {
			return nil, nil, fmt.Errorf("walk nftables %s: %w", p.Dest, err)
		}
		w := PacketWalk{Packet: p}
		seen := map[string]bool{}
		for i, o := range outs {
			out := Outcome{Verdict: strings.ToUpper(string(o.Kind)), Probability: o.Probability, Note: o.Detail}
			if o.Kind == nftables.OutcomeDNAT {
				out.Target = o.Target.String()
			}
			// The steps are the rules that fired; the path forks at the
			// numgen rule, after which only this outcome's share goes on.
			branch, reach := 0, 1.0
			for _, s := range o.Steps {
				if len(out.Chains) == 0 || out.Chains[len(out.Chains)-1] != s.Chain {
					out.Chains = append(out.Chains, s.Chain)
				}
				if strings.HasPrefix(s.Note, "numgen") {
					branch, reach = i+1, o.Probability
				}
				key := fmt.Sprintf("%d/%s/%d", branch, s.Chain, s.Position)
				if !seen[key] {
					seen[key] = true
					w.Steps = append(w.Steps, WalkStep{Table: s.Table, Chain: s.Chain, Line: s.Line, Rule: s.Rule, Matched: true, Note: s.Note, Probability: reach, Branch: branch})
				}
			}
			out.Path = strings.Join(append(serviceChainsOnly(out.Chains), verdictText(out)), " → ")
			w.Outcomes = append(w.Outcomes, out)
		}
		hop.Walks = append(hop.Walks, w)
	}
	if table != nil {
		for _, p := range exp.Ports {
			for _, ec := range p.Chains {
				l := ChainListing{Table: string(family) + " kube-proxy", Name: ec.Name, Rules: []RuleLine{}}
				if c := table.Chain(ec.Name); c != nil {
					for _, r := range c.Rules {
						l.Rules = append(l.Rules, RuleLine{Line: r.Line, Text: r.Text()})
					}
				} else {
					l.Drift = "NFTServiceMissing"
				}
				hop.Chains = append(hop.Chains, l)
			}
		}
	}
	return hop, findings, nil
}

// servicePackets are the packets to walk for each port when no generated
// iptables model names them: ClusterIP for pods and nodes, NodePort and
// external addresses from outside.
func servicePackets(svc *corev1.Service, v nodeView, only string) []Packet {
	var out []Packet
	for _, sp := range svc.Spec.Ports {
		if only != "" && only != sp.Name && only != fmt.Sprint(sp.Port) {
			continue
		}
		proto := strings.ToLower(string(protocolOf(sp.Protocol)))
		label := svc.Namespace + "/" + svc.Name
		if sp.Name != "" {
			label += ":" + sp.Name
		}
		add := func(from, dst string, port int32) {
			if v.from == from && dst != "" && dst != corev1.ClusterIPNone && port != 0 {
				out = append(out, Packet{Protocol: proto, Source: v.src.String(), Dest: dst, Port: port, From: from, ServicePort: label})
			}
		}
		add("pod", svc.Spec.ClusterIP, sp.Port)
		add("node", svc.Spec.ClusterIP, sp.Port)
		if len(v.ips) > 0 {
			add("external", v.ips[0].String(), sp.NodePort)
		}
		for _, ip := range svc.Spec.ExternalIPs {
			add("external", ip, sp.Port)
		}
		for _, ing := range svc.Status.LoadBalancer.Ingress {
			add("external", ing.IP, sp.Port)
		}
	}
	return out
}

func diffMessage(msg, expected, actual string) string {
	if expected != "" {
		msg += "; expected: " + expected
	}
	if actual != "" {
		msg += "; node has: " + actual
	}
	return msg
}

// ipvsHop walks the node's IPVS table and compares it with kube-proxy's
// IPVS mode for the Service.
func ipvsHop(in Input, v nodeView) (*DataplaneHop, []Finding, error) {
	d := in.Dataplane
	exp, err := ipvs.ExpectedFor(in.Service, slicePtrs(in.EndpointSlices), ipvs.Node{Name: v.name, IPs: v.ips})
	if err != nil {
		return nil, nil, err
	}
	hop := &DataplaneHop{Node: v.name, Mode: "ipvs", Source: d.IPVSName}
	var findings []Finding
	for _, f := range driftUnlessUnread(in, func() []ipvs.Finding { return ipvs.Drift(exp, *d.IPVS) }) {
		findings = append(findings, Finding{ID: f.ID, Severity: severityOf(f.ID), Subject: "ipvs/" + f.Subject,
			Message: diffMessage(f.Message, f.Expected, f.Actual), Hint: dataplaneHint(f.ID, in.Name)})
	}
	for _, p := range servicePackets(in.Service, v, d.Port) {
		dst, _ := netip.ParseAddr(p.Dest)
		res := ipvs.Walk(*d.IPVS, ipvs.Protocol(strings.ToUpper(p.Protocol)), dst, uint16(p.Port))
		w := PacketWalk{Packet: p}
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
	return hop, findings, nil
}

// conntrackFindings flags flows still DNATed to endpoints that are gone.
// kube-proxy clears UDP flows of removed endpoints itself and leaves TCP
// to time out, so a TCP flow counts as stale only when its backend is no
// endpoint at all; a UDP one also when the endpoint no longer serves.
func conntrackFindings(in Input, t *Trace) []Finding {
	var vips []conntrack.ServiceVIP
	for i, sp := range in.Service.Spec.Ports {
		proto := protocolOf(sp.Protocol)
		var eps []netip.AddrPort
		for _, e := range t.Ports[i].Endpoints {
			if ip, err := netip.ParseAddr(e.Address); err == nil && (proto == corev1.ProtocolTCP || e.Ready || e.Serving) {
				eps = append(eps, netip.AddrPortFrom(ip, uint16(e.Port)))
			}
		}
		add := func(addr string, port int32) {
			if ip, err := netip.ParseAddr(addr); err == nil && port != 0 {
				vips = append(vips, conntrack.ServiceVIP{Service: in.Namespace + "/" + in.Name + ":" + portKey(sp),
					Protocol: string(proto), VIP: netip.AddrPortFrom(ip, uint16(port)), Endpoints: eps})
			}
		}
		for _, a := range append(append(append([]string{}, t.Service.ClusterIPs...), t.Service.ExternalIPs...), t.Service.LoadBalancerIPs...) {
			add(a, sp.Port)
		}
		for _, n := range t.Nodes {
			add(n.InternalIP, sp.NodePort)
		}
	}
	var out []Finding
	for _, f := range conntrack.FindStale(in.Dataplane.Conntrack, vips) {
		// The package's message ends with the command that removes just
		// this flow; it belongs in the hint.
		msg, command, _ := strings.Cut(f.Message, "; delete it with ")
		out = append(out, Finding{ID: f.ID, Severity: severityOf(f.ID), Subject: "conntrack/" + f.Subject,
			Message: msg + "; " + strings.Replace(f.Expected, "reply from one of ", "its endpoints now: ", 1),
			Hint:    "delete only this stale flow on the node: " + command})
	}
	return out
}

// serviceChainsOnly keeps the per-service nftables chains of a path.
func serviceChainsOnly(chains []string) []string {
	var out []string
	for _, c := range chains {
		if c == "services" || c == "nodeports" || strings.Contains(c, "/") {
			out = append(out, c)
		}
	}
	return out
}

func verdictText(o Outcome) string {
	if o.Target != "" {
		return o.Verdict + " " + o.Target
	}
	return o.Verdict
}

// driftUnlessUnread compares only when the EndpointSlices were read: the
// expected rules of a Service whose endpoints are unknown say nothing.
func driftUnlessUnread[T any](in Input, drift func() []T) []T {
	if in.unread(slicesResource) {
		return nil
	}
	return drift()
}
