package nftables

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"sigs.k8s.io/knftables"

	"github.com/svctrace/kubectl-svctrace/dataplane"
)

// Packet is the first packet of a new connection.
type Packet struct {
	Proto   string // "tcp", "udp" or "sctp"
	Src     netip.Addr
	Dst     netip.Addr
	DstPort uint16
	Entry   dataplane.Entry
}

// WalkOptions describe the node the ruleset was read from.
type WalkOptions struct {
	// LocalAddrs are the node's own addresses: they answer `fib daddr type
	// local` and send a packet to the input hook instead of forward. The
	// source of an EntryNode packet always counts as local.
	LocalAddrs []netip.Addr
}

// OutcomeKind is how the walk of one branch ended.
type OutcomeKind string

const (
	OutcomeDNAT    OutcomeKind = "dnat"     // rewritten to Target
	OutcomeReject  OutcomeKind = "reject"   // refused (ICMP unreachable / TCP reset)
	OutcomeDrop    OutcomeKind = "drop"     // silently dropped
	OutcomeNoMatch OutcomeKind = "no-match" // left untouched by these tables
	OutcomeError   OutcomeKind = "error"    // the walk could not finish (loop, missing chain)
)

// Step is one rule that fired on the way to an outcome.
type Step struct {
	Table    string // "ip kube-proxy"
	Chain    string
	Handle   int
	Position int // 1-based index in the chain
	Line     int // line in a text listing, 0 for JSON
	Rule     string
	Note     string // e.g. "numgen 2 of 3", "no map element for numgen 1: rule skipped"
	// Numgen is set where the path forks on a numgen value; Skipped where
	// the rule did not apply for want of a map element.
	Numgen, Skipped bool
}

// Outcome is one possible fate of the packet with its probability and the
// steps of the first path that led to it.
type Outcome struct {
	Kind        OutcomeKind
	Target      netip.AddrPort // for OutcomeDNAT
	Probability float64
	// Masquerade: a postrouting rule rewrites the source to the node's
	// address (masquerade or snat), as kube-proxy does for marked packets.
	Masquerade bool
	Steps      []Step
	Detail     string // for OutcomeError
}

// String is a one-line summary such as "dnat 10.180.0.4:80 p=0.500".
func (o Outcome) String() string {
	s := string(o.Kind)
	if o.Kind == OutcomeDNAT {
		s += " " + o.Target.String()
	}
	if o.Detail != "" {
		s += " (" + o.Detail + ")"
	}
	if o.Masquerade {
		s += " masquerade"
	}
	return fmt.Sprintf("%s p=%.3f", s, o.Probability)
}

// Walk follows pkt through the base chains of every table of its family in
// rs (kube-proxy's and any other), splitting at `numgen random` into
// weighted branches, then through postrouting for packets that leave the
// node, and returns the outcomes sorted by kind and target.
// Probabilities sum to 1. Affinity sets are honoured with their current
// elements, so a source already pinned to an endpoint reaches only it.
func Walk(rs *Ruleset, pkt Packet, opts WalkOptions) ([]Outcome, error) {
	if err := pkt.validate(); err != nil {
		return nil, err
	}
	w := &walker{rs: rs, opts: opts, family: knftables.IPv4Family}
	if pkt.Dst.Is6() && !pkt.Dst.Is4In6() {
		w.family = knftables.IPv6Family
	}
	states := []*state{{pkt: pkt, prob: 1}}
	if pkt.Entry == dataplane.EntryNode {
		states = w.hook(w.hook(states, knftables.OutputHook), knftables.PostroutingHook)
	} else {
		states = w.hook(states, knftables.PreroutingHook)
		var in, fwd []*state
		for _, s := range states {
			switch {
			case s.final != "":
				in = append(in, s) // already decided; carried through
			case w.isLocal(s.pkt.Dst):
				in = append(in, s)
			default:
				fwd = append(fwd, s)
			}
		}
		fwd = w.hook(w.hook(fwd, knftables.ForwardHook), knftables.PostroutingHook)
		states = append(w.hook(in, knftables.InputHook), fwd...)
	}
	return merge(states), nil
}

func (p Packet) validate() error {
	switch p.Proto {
	case "tcp", "udp", "sctp":
	default:
		return fmt.Errorf("packet protocol %q: use tcp, udp or sctp", p.Proto)
	}
	if !p.Dst.IsValid() {
		return fmt.Errorf("packet has no destination address")
	}
	switch p.Entry {
	case dataplane.EntryPod, dataplane.EntryNode, dataplane.EntryExternal:
	default:
		return fmt.Errorf("packet entry %v: use pod, node or external", p.Entry)
	}
	return nil
}

// state is one branch of the walk.
type state struct {
	pkt    Packet
	mark   uint32
	dnat   bool
	masq   bool
	prob   float64
	steps  []Step
	final  string // "drop", "reject" or "error" once decided
	detail string
}

func (s *state) clone(factor float64) *state {
	c := *s
	c.prob *= factor
	c.steps = slices.Clone(s.steps)
	return &c
}

type walker struct {
	rs     *Ruleset
	opts   WalkOptions
	family knftables.Family
}

func (w *walker) isLocal(a netip.Addr) bool {
	return slices.Contains(w.opts.LocalAddrs, a.Unmap())
}

type hookChain struct {
	table *Table
	chain *Chain
}

// hook runs the states through every base chain on hook in priority order.
func (w *walker) hook(states []*state, hook knftables.BaseChainHook) []*state {
	var chains []hookChain
	for _, t := range w.rs.Tables {
		if t.Family != w.family && t.Family != knftables.InetFamily {
			continue
		}
		for _, c := range t.Chains {
			if c.Hook != nil && *c.Hook == hook {
				chains = append(chains, hookChain{t, c})
			}
		}
	}
	slices.SortStableFunc(chains, func(a, b hookChain) int { return cmp.Compare(a.chain.Prio, b.chain.Prio) })
	for _, hc := range chains {
		var next []*state
		for _, s := range states {
			if s.final != "" {
				next = append(next, s)
				continue
			}
			for _, r := range w.chain(s, hc.table, hc.chain, 0) {
				switch r.verdict {
				case "drop", "reject", "error":
					r.st.final, r.st.detail = r.verdict, r.detail
				}
				next = append(next, r.st)
			}
		}
		states = next
	}
	return states
}

// merge folds branches with the same fate together.
func merge(states []*state) []Outcome {
	var out []Outcome
	for _, s := range states {
		o := Outcome{Kind: OutcomeNoMatch, Probability: s.prob, Masquerade: s.masq, Steps: s.steps, Detail: s.detail}
		switch {
		case s.final == "drop":
			o.Kind = OutcomeDrop
		case s.final == "reject":
			o.Kind = OutcomeReject
		case s.final == "error":
			o.Kind = OutcomeError
		case s.dnat:
			o.Kind, o.Target = OutcomeDNAT, netip.AddrPortFrom(s.pkt.Dst, s.pkt.DstPort)
		}
		i := slices.IndexFunc(out, func(x Outcome) bool {
			return x.Kind == o.Kind && x.Target == o.Target && x.Detail == o.Detail && x.Masquerade == o.Masquerade
		})
		if i >= 0 {
			out[i].Probability += o.Probability
			continue
		}
		out = append(out, o)
	}
	slices.SortFunc(out, func(a, b Outcome) int {
		if c := strings.Compare(string(a.Kind), string(b.Kind)); c != 0 {
			return c
		}
		return a.Target.Compare(b.Target)
	})
	return out
}
