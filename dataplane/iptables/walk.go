package iptables

import (
	"errors"
	"fmt"
	"net/netip"

	"github.com/svctrace/kubectl-svctrace/dataplane"
)

// Packet is the first packet of a connection.
type Packet struct {
	// Proto is tcp, udp or sctp.
	Proto    string
	Src, Dst netip.Addr
	// SrcPort may be 0 (unknown): rules matching --sport are then reported
	// as not evaluable.
	SrcPort, DstPort uint16
	Mark             uint32
	// InInterface and OutInterface are optional; rules matching -i/-o are
	// not evaluable when they are empty.
	InInterface, OutInterface string
	// CTState is the conntrack state; empty means NEW.
	CTState string
}

func (p Packet) String() string {
	return fmt.Sprintf("%s %s:%d -> %s", p.Proto, p.Src, p.SrcPort, netip.AddrPortFrom(p.Dst, p.DstPort))
}

// Node holds facts about the node the dump came from.
type Node struct {
	// LocalAddrs are the node's own addresses (addrtype LOCAL). Loopback
	// addresses are always local. When nil, LOCAL checks of other
	// addresses are reported as not evaluable.
	LocalAddrs []netip.Addr
	// IPSetMatch tells whether a packet matches "-m set --match-set name
	// flags". known=false, or a nil func, makes the rule not evaluable.
	IPSetMatch func(name, flags string, p Packet) (matched, known bool)
}

// Verdict is how a walk ends.
type Verdict string

const (
	// VerdictDNAT: a nat rule rewrote the destination (a Service hit).
	VerdictDNAT Verdict = "DNAT"
	// VerdictReject: a REJECT rule (kube-proxy: Service without endpoints).
	VerdictReject Verdict = "REJECT"
	// VerdictDrop: a DROP rule or a DROP policy.
	VerdictDrop Verdict = "DROP"
	// VerdictAccept: the packet passes unchanged; it is not a Service hit.
	VerdictAccept Verdict = "ACCEPT"
)

// StepResult says how one rule evaluated.
type StepResult string

const (
	Matched    StepResult = "matched"
	NotMatched StepResult = "not matched"
	// AssumedMatched and AssumedNotMatched are the two sides of a rule the
	// walk could not evaluate (unknown module, ipset contents, affinity).
	AssumedMatched    StepResult = "assumed matched"
	AssumedNotMatched StepResult = "assumed not matched"
	// Policy is the end of a built-in chain, where its policy applies.
	Policy StepResult = "policy"
)

// Step is one rule (or chain policy) the packet met.
type Step struct {
	// Chain is the chain the step is in; Chain.Table names the table.
	Chain *Chain
	// Rule is nil for Policy steps.
	Rule *Rule
	// Hook is the built-in chain the table traversal started from.
	Hook   string
	Result StepResult
	// Note explains assumptions and probability forks.
	Note string
	// Probability of the branch after this step.
	Probability float64
}

// Table is the table of the step.
func (s Step) Table() string { return s.Chain.Table }

// Line is the rule's dump line, or the chain declaration line for Policy.
func (s Step) Line() int {
	if s.Rule != nil {
		return s.Rule.Line
	}
	return s.Chain.Line
}

// Outcome is one way a packet can end.
type Outcome struct {
	Verdict Verdict
	// Destination after DNAT; invalid when no DNAT happened or the target
	// could not be read as ip:port (see DNATTarget).
	Destination netip.AddrPort
	DNATTarget  string
	RejectWith  string
	// Probability of this outcome given its Assumptions; outcomes without
	// assumptions sum to 1.
	Probability float64
	// Masquerade is true when nat POSTROUTING masqueraded (SNATed) the packet.
	Masquerade bool
	// Mark is the packet mark at the end.
	Mark uint32
	// Affinity is "sticky" when the outcome assumes the client already has
	// ClientIP affinity (recent --rcheck hit), "fresh" when it assumes it
	// has none, "" when no affinity rule was met.
	Affinity string
	// Assumptions lists what the outcome takes for granted about rules the
	// walk could not evaluate.
	Assumptions []string
	// Decisive is the index in Steps() of the rule that decided the
	// verdict (the DNAT, REJECT or DROP rule), or -1.
	Decisive int

	// path is shared with sibling outcomes up to where they forked, so a
	// walk through a long KUBE-SERVICES chain is not copied per outcome.
	path *stepSeg
}

// Steps returns the full path of the outcome in order: every rule met,
// matched or not, and the policy of every built-in chain that ran out.
func (o Outcome) Steps() []Step {
	if o.path == nil {
		return nil
	}
	out := make([]Step, o.path.n)
	for s := o.path; s != nil; s = s.parent {
		copy(out[s.n-len(s.steps):s.n], s.steps)
	}
	return out
}

// Result is the set of outcomes of a walk.
type Result struct {
	Packet   Packet
	Entry    dataplane.Entry
	Outcomes []Outcome
}

// Limits guarding against loops in hand-written or corrupt dumps.
const (
	maxDepth    = 64
	maxEntries  = 10000
	maxOutcomes = 4096
	// maxEvals bounds the total work: jump trees can be exponential
	// without looping. A real node's walk needs a few tens of thousands.
	maxEvals = 2_000_000
)

// ErrLoop is returned (wrapped) when a walk exceeds its depth, chain-entry
// or evaluation limits: the ruleset loops, or branches too much to walk.
var ErrLoop = errors.New("rule walk loops")

// Walk follows p through d as netfilter would and returns every outcome.
// It errors only on rulesets that loop or fork without bound.
func Walk(d *Dump, p Packet, entry dataplane.Entry, node Node) (Result, error) {
	w := &walker{d: d, node: node}
	start := &branch{pkt: p, prob: 1, decisive: -1}
	if start.pkt.CTState == "" {
		start.pkt.CTState = "NEW"
	}
	done, err := w.pipeline(start, entry)
	if err != nil {
		return Result{}, err
	}
	res := Result{Packet: p, Entry: entry, Outcomes: make([]Outcome, 0, len(done))}
	for _, b := range done {
		res.Outcomes = append(res.Outcomes, b.outcome())
	}
	return res, nil
}
