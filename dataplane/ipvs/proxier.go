package ipvs

import (
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/svctrace/kubectl-svctrace/dataplane"
)

// Proxier is kube-proxy's IPVS mode: virtual servers, the addresses bound to
// kube-ipvs0, and the iptables rules that masquerade.
type Proxier struct {
	// ProxyName is the service-proxy-name label value of the Services
	// this proxy serves; empty is kube-proxy, which serves the unlabelled
	// ones.
	ProxyName string
}

// Serve is scoped kubectl-svctrace --serve in IPVS mode: kube-proxy's
// virtual servers for the Services labelled for it. The IPVS table has
// no owner, so its virtual servers sit beside kube-proxy's; its addresses
// are on svctrace-ipvs0, which counts as a local address all the same.
var Serve = Proxier{ProxyName: dataplane.ServeProxyName}

var _ dataplane.Proxier[*Want, *State] = Proxier{}

// Want is the IPVS state kube-proxy programs on a node.
type Want struct {
	Node     dataplane.Node
	Services []*corev1.Service
	// Expected holds one entry per Service, in the order of Services.
	Expected []Expected
	// Skipped are what kube-proxy would program for the Services it skips
	// (labelled service-proxy-name or headless): a node holding any of it
	// holds stale virtual servers.
	Skipped []Expected
}

// State is what a node holds: its IPVS table and, where they were
// read, its local addresses.
type State struct {
	Table Table
	// Local are the node's local addresses (kube-ipvs0's among them);
	// LocalRead says whether they were read at all.
	Local     []netip.Addr
	LocalRead bool
}

// Mode is ipvs.
func (Proxier) Mode() dataplane.Mode { return dataplane.ModeIPVS }

// Expect computes the virtual servers and bound addresses for objs on n.
func (p Proxier) Expect(n dataplane.Node, objs dataplane.Objects) (*Want, error) {
	served, skipped := objs.ForProxy(p.ProxyName)
	w := &Want{Node: n, Services: served.Services}
	node := Node{Name: n.Name, IPs: n.IPs, Zone: n.Zone}
	for _, svc := range served.Services {
		exp, err := ExpectedFor(svc, served.Slices, node)
		if err != nil {
			return nil, fmt.Errorf("expected IPVS state of %s/%s: %w", svc.Namespace, svc.Name, err)
		}
		w.Expected = append(w.Expected, exp)
	}
	for _, svc := range skipped {
		exp, err := ExpectedFor(svc, objs.Slices, node)
		if err != nil {
			return nil, fmt.Errorf("IPVS state of %s/%s were kube-proxy to handle it: %w", svc.Namespace, svc.Name, err)
		}
		w.Skipped = append(w.Skipped, exp)
	}
	return w, nil
}

// Materialize is the table of a node in sync, its addresses all bound.
func (Proxier) Materialize(w *Want) (*State, error) {
	s := &State{LocalRead: true}
	for _, exp := range w.Expected {
		for _, vs := range exp.VirtualServers {
			s.Table.VirtualServers = append(s.Table.VirtualServers, vs.VirtualServer)
		}
		s.Local = append(s.Local, exp.Bound...)
	}
	return s, nil
}

// Read parses ipvsadm -Ln or ipvsadm-save -n output; the local addresses
// are read apart (ParseLocal).
func (Proxier) Read(r io.Reader) (*State, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read IPVS table: %w", err)
	}
	t, err := Parse(b)
	if err != nil {
		return nil, err
	}
	return &State{Table: t}, nil
}

// Drift compares the virtual servers w expects and, where the local
// addresses were read, the bound addresses.
func (Proxier) Drift(w *Want, got *State) []dataplane.Diff {
	var out []dataplane.Diff
	for _, exp := range w.Expected {
		out = append(out, Drift(exp, got.Table)...)
		if got.LocalRead {
			// Needs no endpoints: the addresses come from the Service alone.
			out = append(out, BindingDrift(exp, got.Local)...)
		}
	}
	for _, exp := range w.Skipped {
		for _, vs := range exp.VirtualServers {
			if _, ok := got.Table.Find(vs.VirtualServer); ok {
				out = append(out, dataplane.Diff{Kind: dataplane.StaleProxyRules, Where: At(vs.VirtualServer, nil), Actual: vs.Key(),
					Service: vs.PortName, Skipped: true})
			}
		}
	}
	return out
}

// Walk finds the virtual server p meets and its real servers' shares.
func (Proxier) Walk(w *Want, got *State, p dataplane.Packet) (dataplane.Walk, error) {
	walk := dataplane.Walk{Packet: p}
	dst := p.Dest
	var bound []netip.Addr
	for _, exp := range w.Expected {
		bound = append(bound, exp.Bound...)
	}
	if got.LocalRead && p.From != dataplane.EntryNode && slices.Contains(bound, dst) && !slices.Contains(got.Local, dst) {
		// Not a local address: a pod's or outside client's packet is
		// routed on and IPVS never sees it. The node's own packets meet
		// IPVS on the way out (LOCAL_OUT) all the same.
		walk.Outcomes = []dataplane.Outcome{{Verdict: dataplane.VerdictAccept, Probability: 1, Path: dst.String() + " not local (not on " + DummyInterface + ") → not proxied",
			Note: dst.String() + " is not a local address of the node, so IPVS does not see the packet"}}
		return walk, nil
	}
	res := Walk(got.Table, Protocol(strings.ToUpper(p.Protocol)), dst, p.Port)
	if !res.Found {
		walk.Outcomes = []dataplane.Outcome{{Verdict: dataplane.VerdictAccept, Probability: 1, Path: "no IPVS virtual server → not proxied", Note: "no IPVS virtual server for " + dst.String()}}
	}
	vsName := res.VirtualServer.Key()
	if res.Found && !anyShare(res.Outcomes) {
		// The scheduler finds no destination and ip_vs_leave answers ICMP
		// port unreachable: the client's connection is refused.
		walk.Outcomes = []dataplane.Outcome{{Verdict: dataplane.VerdictReject, Probability: 1, Path: fmt.Sprintf("virtual server %s → no real server to schedule → ICMP port unreachable", vsName),
			Chains: []string{vsName}, Note: res.Note}}
		return walk, nil
	}
	svc := serviceOf(w.Services, p.ServicePort)
	total := 0
	for _, o := range res.Outcomes {
		total += o.RealServer.ActiveConns + o.RealServer.InactiveConns
	}
	for _, o := range res.Outcomes {
		out := dataplane.Outcome{Verdict: dataplane.VerdictDNAT, Target: o.RealServer.Key(), Probability: o.Probability,
			Path:   fmt.Sprintf("virtual server %s (%s) → %s", vsName, res.VirtualServer.Scheduler, o.RealServer.Key()),
			Chains: []string{vsName}, Masquerade: ipvsMasquerade(p, w.Node.Flags.ClusterCIDR, svc, o.RealServer.Address), Note: res.Note}
		if total > 0 {
			// The connections each real server holds now, as ipvsadm -Ln
			// counts them: the split the node really made.
			n := o.RealServer.ActiveConns + o.RealServer.InactiveConns
			out.Observed = &dataplane.Observed{Packets: uint64(n), Share: float64(n) / float64(total)}
		}
		walk.Outcomes = append(walk.Outcomes, out)
	}
	return walk, nil
}

// anyShare reports whether some real server gets new connections.
func anyShare(outs []Outcome) bool {
	for _, o := range outs {
		if o.Probability > 0 {
			return true
		}
	}
	return false
}

// serviceOf is the Service of services a packet's Service port names
// ("ns/name" or "ns/name:port").
func serviceOf(services []*corev1.Service, port string) *corev1.Service {
	name, _, _ := strings.Cut(port, ":")
	for _, s := range services {
		if s.Namespace+"/"+s.Name == name {
			return s
		}
	}
	return nil
}

// ipvsMasquerade says whether the iptables rules kube-proxy's IPVS mode
// writes (writeIptablesRules) mark the packet for masquerade. IPVS's own
// "Masq" forwarding only rewrites the destination. Marked are hairpin
// traffic (KUBE-LOOP-BACK), traffic from outside unless
// externalTrafficPolicy is Local, and cluster IP traffic from outside the
// cluster CIDR when it is known.
func ipvsMasquerade(p dataplane.Packet, clusterCIDR netip.Prefix, svc *corev1.Service, backend netip.Addr) bool {
	switch {
	case p.Source == backend:
		return true
	case p.From == dataplane.EntryExternal:
		return svc == nil || svc.Spec.ExternalTrafficPolicy != corev1.ServiceExternalTrafficPolicyLocal
	}
	return p.Source.IsValid() && clusterCIDR.IsValid() && !clusterCIDR.Contains(p.Source)
}
