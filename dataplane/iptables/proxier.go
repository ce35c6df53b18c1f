package iptables

import (
	"fmt"
	"io"
	"net/netip"
	"strings"

	"github.com/svctrace/kubectl-svctrace/dataplane"
	"github.com/svctrace/kubectl-svctrace/dataplane/iptables/expected"
)

// Proxier is kube-proxy's iptables mode, one IP family at a time.
type Proxier struct{}

var _ dataplane.Proxier[*Want, *Dump] = Proxier{}

// Want is what kube-proxy's iptables proxier writes on a node.
type Want struct {
	Node    dataplane.Node
	Ruleset *expected.Ruleset
	// Dump is Ruleset as iptables-save lists it.
	Dump *Dump
	// Skipped are the ports of the Services kube-proxy skips (labelled
	// service-proxy-name or headless), as it would name them: rules a node
	// holds for them are stale.
	Skipped Service
	// Layout is kube-proxy's, or scoped --serve's when every Service
	// covered is one only --serve programs (labelled service-proxy-name
	// svctrace): then Ruleset and Dump are in SVCT- chains.
	Layout expected.Layout
}

// Mode is iptables.
func (Proxier) Mode() dataplane.Mode { return dataplane.ModeIPTables }

// Expect generates the rules for objs on n.
func (Proxier) Expect(n dataplane.Node, objs dataplane.Objects) (*Want, error) {
	node := expected.Node{Name: n.Name, Zone: n.Zone, NFAcct: n.Flags.NFAcct, MasqueradeAll: n.Flags.MasqueradeAll, Family: n.Family}
	for _, ip := range n.IPs {
		node.IPs = append(node.IPs, ip.String())
	}
	// The addresses read from the rules are node addresses kube-proxy
	// found on its interfaces, which the Node object may not list.
	for _, p := range n.Flags.NodePortAddresses {
		node.NodePortAddresses = append(node.NodePortAddresses, p.String())
		if p.IsSingleIP() {
			node.IPs = append(node.IPs, p.Addr().String())
		}
	}
	if n.Flags.NodePortAddresses != nil && len(n.Flags.NodePortAddresses) == 0 {
		// Narrowed to no address: CIDRs that hold none of the node's.
		node.NodePortAddresses = []string{"0.0.0.0/32", "::/128"}
	}
	if n.Flags.NoLocalhostNodePorts {
		node.LocalhostNodePorts = new(bool)
	}
	switch f := n.Flags; {
	case f.ClusterCIDR.IsValid():
		node.LocalMode, node.LocalValue = expected.LocalClusterCIDR, f.ClusterCIDR.String()
	case f.InterfacePrefix != "":
		node.LocalMode, node.LocalValue = expected.LocalInterfaceNamePrefix, f.InterfacePrefix
	case f.Bridge != "":
		node.LocalMode, node.LocalValue = expected.LocalBridgeInterface, f.Bridge
	}
	served, skipped := objs.ForKubeProxy()
	layout := expected.KubeProxyLayout
	if own := servedByServe(objs); len(served.Services) == 0 && len(own.Services) > 0 {
		// Services only scoped --serve programs: judged in its layout, and
		// what kube-proxy would write for them is stale as for any other
		// Service it skips.
		served, layout = own, expected.ServeLayout
	}
	rs, err := expected.Generate(node, served.Services, served.Slices)
	if err != nil {
		return nil, fmt.Errorf("generate expected iptables rules: %w", err)
	}
	rs = rs.InLayout(layout)
	var asIf *expected.Ruleset
	if len(skipped) > 0 {
		// What kube-proxy would write were the Services its own names
		// their rules on a node.
		if asIf, err = expected.Generate(node, skipped, objs.Slices); err != nil {
			return nil, fmt.Errorf("generate iptables rules of Services kube-proxy skips: %w", err)
		}
	}
	text, err := rs.Save()
	if err != nil {
		return nil, fmt.Errorf("render expected iptables rules: %w", err)
	}
	d, err := Parse(text)
	if err != nil {
		return nil, fmt.Errorf("read back expected iptables rules: %w", err)
	}
	w := &Want{Node: n, Ruleset: rs, Dump: d, Layout: layout}
	if asIf != nil {
		w.Skipped = portScope(asIf, expected.KubeProxyLayout)
	}
	return w, nil
}

// servedByServe are the Services and EndpointSlices scoped --serve
// programs, selected by label as its informers select them.
func servedByServe(objs dataplane.Objects) dataplane.Objects {
	own := dataplane.Objects{ServiceCIDRs: objs.ServiceCIDRs}
	for _, s := range objs.Services {
		if dataplane.ServedByServe(s.Labels) {
			own.Services = append(own.Services, s)
		}
	}
	for _, s := range objs.Slices {
		if dataplane.ServedByServe(s.Labels) {
			own.Slices = append(own.Slices, s)
		}
	}
	return own
}

// Materialize is the expected rules as iptables-save lists them.
func (Proxier) Materialize(w *Want) (*Dump, error) { return w.Dump, nil }

// Read parses iptables-save (or ip6tables-save) output.
func (Proxier) Read(r io.Reader) (*Dump, error) { return Read(r) }

// Drift compares the node's rules for the ports w covers.
func (Proxier) Drift(w *Want, got *Dump) []dataplane.Diff {
	diffs := Drift(w.Dump, got, portScope(w.Ruleset, w.Layout))
	if len(w.Skipped.PortNames) > 0 {
		for _, d := range Drift(&Dump{}, got, w.Skipped) {
			d.Skipped = true
			diffs = append(diffs, d)
		}
	}
	for i := range diffs {
		diffs[i].Where.Family = string(w.Node.Family)
	}
	return diffs
}

// portScope names the Service ports of rs and their chains, in layout l.
func portScope(rs *expected.Ruleset, l expected.Layout) Service {
	svc := Service{Layout: l}
	for _, sp := range rs.Services {
		svc.PortNames = append(svc.PortNames, sp.ID)
		svc.Chains = append(svc.Chains, sp.OwnChains()...)
	}
	return svc
}

// Walk follows p through the nat and filter tables of got.
func (Proxier) Walk(w *Want, got *Dump, p dataplane.Packet) (dataplane.Walk, error) {
	pkt := Packet{Proto: p.Protocol, Src: p.Source, Dst: p.Dest, DstPort: p.Port}
	local := w.Node.IPs
	if len(local) == 0 {
		// With no node known, only loopback is local: a ClusterIP or pod
		// IP never is, so the walk need not fork on "addrtype LOCAL".
		local = []netip.Addr{netip.IPv6Loopback()}
	}
	res, err := Walk(got, pkt, p.From, Node{LocalAddrs: local})
	if err != nil {
		return dataplane.Walk{}, fmt.Errorf("walk %s: %w", pkt, err)
	}
	return iptablesWalk(p, res), nil
}

func iptablesWalk(p dataplane.Packet, res Result) dataplane.Walk {
	w := dataplane.Walk{Packet: p}
	paths := make([][]Step, len(res.Outcomes))
	for i, o := range res.Outcomes {
		paths[i] = o.Steps()
	}
	fork := forkPoint(paths)
	var prev []Step
	for i, o := range res.Outcomes {
		out := iptablesOutcome(o)
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
				w.Steps = append(w.Steps, iptablesStep(s, 0))
			}
		}
		for _, s := range steps[max(fork, commonPrefix(prev, steps)):] {
			w.Steps = append(w.Steps, iptablesStep(s, i+1))
		}
		prev = steps
		w.Outcomes = append(w.Outcomes, out)
	}
	observe(w.Outcomes, res.Outcomes, paths)
	return w
}

// observe sets each DNAT outcome's Observed from the packet counters of
// the rule that decided it (iptables-save -c), when every such rule has
// them and together they counted something. A client already pinned by
// affinity is an alternative path to the same rule, not a share of its
// own, so it gets none.
func observe(outs []dataplane.Outcome, res []Outcome, paths [][]Step) {
	counted := map[*Rule]bool{}
	var total uint64
	rules := make([]*Rule, len(outs))
	for i, o := range res {
		if o.Verdict != VerdictDNAT || o.Affinity == "sticky" || o.Decisive < 0 || o.Decisive >= len(paths[i]) {
			continue
		}
		r := paths[i][o.Decisive].Rule
		if r == nil || !r.Counters.Set {
			return
		}
		rules[i] = r
		if !counted[r] {
			counted[r] = true
			total += r.Counters.Packets
		}
	}
	if total == 0 {
		return
	}
	for i, r := range rules {
		if r != nil {
			outs[i].Observed = &dataplane.Observed{Packets: r.Counters.Packets, Share: float64(r.Counters.Packets) / float64(total)}
		}
	}
}

func iptablesOutcome(o Outcome) dataplane.Outcome {
	path := o.ChainPath()
	out := dataplane.Outcome{Verdict: dataplane.Verdict(o.Verdict), Target: o.DNATTarget, Probability: o.Probability,
		Path: path, Masquerade: o.Masquerade, Note: strings.Join(o.Assumptions, "; "),
		Affinity: dataplane.Affinity(o.Affinity), Assumptions: o.Assumptions,
		Untranslated: o.Verdict == VerdictAccept && path == "ACCEPT"}
	switch out.Affinity {
	case dataplane.AffinitySticky:
		out.Note = "for a client already pinned to this endpoint (ClientIP affinity)"
	case dataplane.AffinityFresh:
		out.Note = "for a client not pinned yet"
	}
	return out
}

// forkPoint is how many leading steps every path shares.
func forkPoint(paths [][]Step) int {
	if len(paths) == 0 {
		return 0
	}
	n := len(paths[0])
	for _, p := range paths[1:] {
		n = min(n, commonPrefix(paths[0], p))
	}
	return n
}

func commonPrefix(a, b []Step) int {
	n := 0
	for n < len(a) && n < len(b) && a[n].Rule == b[n].Rule && a[n].Chain == b[n].Chain && a[n].Result == b[n].Result {
		n++
	}
	return n
}

func iptablesStep(s Step, branch int) dataplane.Step {
	ws := dataplane.Step{Table: s.Table(), Chain: s.Chain.Name, Line: s.Line(), Probability: s.Probability, Note: s.Note, Branch: branch}
	if s.Result == Policy {
		ws.Kind = dataplane.StepPolicy
	}
	ws.Matched = s.Result == Matched || s.Result == AssumedMatched || s.Result == Policy
	if s.Rule != nil {
		ws.Rule = s.Rule.Text
	} else {
		ws.Rule = fmt.Sprintf(":%s %s", s.Chain.Name, s.Chain.Policy)
	}
	if s.Result != Matched && s.Result != NotMatched && ws.Note == "" {
		ws.Note = string(s.Result)
	}
	return ws
}
