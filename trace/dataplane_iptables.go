package trace

import (
	"fmt"
	"net/netip"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"

	"github.com/svctrace/kubectl-svctrace/dataplane"
	"github.com/svctrace/kubectl-svctrace/dataplane/iptables"
	"github.com/svctrace/kubectl-svctrace/dataplane/iptables/expected"
)

// iptablesHop generates the rules kube-proxy's iptables mode should write
// for the Service, walks a packet through the node's dump (or through the
// generated rules when there is none), and compares the two.
func iptablesHop(in Input, v nodeView) (*DataplaneHop, []Finding, error) {
	node := expected.Node{Name: v.name, Zone: v.zone, NFAcct: v.proxy.nfacct, MasqueradeAll: v.proxy.masqueradeAll}
	for _, ip := range v.ips {
		node.IPs = append(node.IPs, ip.String())
	}
	switch {
	case v.clusterCIDR.IsValid():
		node.LocalMode, node.LocalValue = expected.LocalClusterCIDR, v.clusterCIDR.String()
	case v.proxy.ifacePrefix != "":
		node.LocalMode, node.LocalValue = expected.LocalInterfaceNamePrefix, v.proxy.ifacePrefix
	case v.proxy.bridge != "":
		node.LocalMode, node.LocalValue = expected.LocalBridgeInterface, v.proxy.bridge
	}
	node.Family = v.family
	rs, err := expected.Generate(node, []*corev1.Service{in.Service}, slicePtrs(in.EndpointSlices))
	if err != nil {
		return nil, nil, fmt.Errorf("generate expected iptables rules: %w", err)
	}
	text, err := rs.Save()
	if err != nil {
		return nil, nil, fmt.Errorf("render expected iptables rules: %w", err)
	}
	want, err := iptables.Parse(text)
	if err != nil {
		return nil, nil, fmt.Errorf("read back expected iptables rules: %w", err)
	}
	hop := &DataplaneHop{Node: v.name, Mode: "iptables", Family: string(v.family), Source: "expected"}
	actual := want
	if in.Dataplane.IPTables != nil {
		actual, hop.Source, hop.SavedAt = in.Dataplane.IPTables, in.Dataplane.IPTablesName, in.Dataplane.IPTablesSavedAt
	}
	var findings []Finding
	var drift map[ruleKey]dataplane.DiffKind
	if actual != want && !in.unread(slicesResource) {
		findings, drift = iptablesDrift(want, actual, rs, in.Service.Name, v.family)
	}
	for _, sp := range rs.Services {
		if !portSelected(in.Dataplane.Port, sp.PortName, sp.Port, sp.NodePort) {
			continue
		}
		for _, pkt := range packets(generatedTargets(sp), v) {
			w, err := walkIPTables(actual, pkt, v)
			if err != nil {
				return nil, nil, err
			}
			hop.Walks = append(hop.Walks, w)
		}
	}
	hop.Chains = iptablesChains(actual, rs, drift)
	return hop, findings, nil
}

func slicePtrs(s []discoveryv1.EndpointSlice) []*discoveryv1.EndpointSlice {
	out := make([]*discoveryv1.EndpointSlice, len(s))
	for i := range s {
		out[i] = &s[i]
	}
	return out
}

func walkIPTables(d *iptables.Dump, p dataplane.Packet, v nodeView) (dataplane.Walk, error) {
	pkt := iptables.Packet{Proto: p.Protocol, Src: p.Source, Dst: p.Dest, DstPort: p.Port}
	local := v.ips
	if len(local) == 0 {
		// With no node known, only loopback is local: a ClusterIP or pod
		// IP never is, so the walk need not fork on "addrtype LOCAL".
		local = []netip.Addr{netip.IPv6Loopback()}
	}
	res, err := iptables.Walk(d, pkt, p.From, iptables.Node{LocalAddrs: local})
	if err != nil {
		return dataplane.Walk{}, fmt.Errorf("walk %s: %w", pkt, err)
	}
	w := dataplane.Walk{Packet: p}
	paths := make([][]iptables.Step, len(res.Outcomes))
	for i, o := range res.Outcomes {
		paths[i] = o.Steps()
	}
	fork := forkPoint(paths)
	var prev []iptables.Step
	for i, o := range res.Outcomes {
		out := dataplane.Outcome{Verdict: dataplane.Verdict(o.Verdict), Target: o.DNATTarget, Probability: o.Probability,
			Path: o.ChainPath(), Masquerade: o.Masquerade, Note: strings.Join(o.Assumptions, "; "),
			Affinity: dataplane.Affinity(o.Affinity), Assumptions: o.Assumptions, Untranslated: o.Verdict == iptables.VerdictAccept && o.ChainPath() == "ACCEPT"}
		switch out.Affinity {
		case dataplane.AffinitySticky:
			out.Note = "for a client already pinned to this endpoint (ClientIP affinity)"
		case dataplane.AffinityFresh:
			out.Note = "for a client not pinned yet"
		}
		steps := paths[i]
		for _, s := range steps {
			if len(out.Chains) == 0 || out.Chains[len(out.Chains)-1] != s.Chain.Name {
				out.Chains = append(out.Chains, s.Chain.Name)
			}
		}
		// Outcomes fork from one walk: the first one's path up to the fork
		// is everyone's; each then adds only its own remainder.
		if i == 0 {
			for _, s := range steps[:fork] {
				w.Steps = append(w.Steps, walkStep(s, 0))
			}
		}
		for _, s := range steps[max(fork, commonPrefix(prev, steps)):] {
			w.Steps = append(w.Steps, walkStep(s, i+1))
		}
		prev = steps
		w.Outcomes = append(w.Outcomes, out)
	}
	return w, nil
}

// forkPoint is how many leading steps every path shares.
func forkPoint(paths [][]iptables.Step) int {
	if len(paths) == 0 {
		return 0
	}
	n := len(paths[0])
	for _, p := range paths[1:] {
		n = min(n, commonPrefix(paths[0], p))
	}
	return n
}

func commonPrefix(a, b []iptables.Step) int {
	n := 0
	for n < len(a) && n < len(b) && a[n].Rule == b[n].Rule && a[n].Chain == b[n].Chain && a[n].Result == b[n].Result {
		n++
	}
	return n
}

func walkStep(s iptables.Step, branch int) dataplane.Step {
	ws := dataplane.Step{Table: s.Table(), Chain: s.Chain.Name, Line: s.Line(), Probability: s.Probability, Note: s.Note, Branch: branch}
	if s.Result == iptables.Policy {
		ws.Kind = dataplane.StepPolicy
	}
	ws.Matched = s.Result == iptables.Matched || s.Result == iptables.AssumedMatched || s.Result == iptables.Policy
	if s.Rule != nil {
		ws.Rule = s.Rule.Text
	} else {
		ws.Rule = fmt.Sprintf(":%s %s", s.Chain.Name, s.Chain.Policy)
	}
	if s.Result != iptables.Matched && s.Result != iptables.NotMatched && ws.Note == "" {
		ws.Note = string(s.Result)
	}
	return ws
}
