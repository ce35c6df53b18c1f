package iptables

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"

	"github.com/svctrace/kubectl-svctrace/dataplane"
)

// branch is one possible history of the packet.
type branch struct {
	pkt  Packet
	prob float64
	// prefix holds the steps shared with sibling branches, steps the ones
	// taken since the last fork: forks then cost nothing per step.
	prefix      *stepSeg
	steps       []Step
	assumptions []string
	affinity    string
	entries     int

	verdict    Verdict // set once DROP/REJECT ends the packet
	dnat       string
	dest       netip.AddrPort
	rejectWith string
	masquerade bool
	decisive   int

	// Per-traversal state: the hook being walked, and how the branch left
	// the last chain: by falling off or RETURN (returned) or by a verdict
	// that ends the table traversal (stopped).
	hook    string
	stopped bool
}

// stepSeg is an immutable run of steps after its parent's; n counts the
// steps of the whole chain of segments.
type stepSeg struct {
	parent *stepSeg
	steps  []Step
	n      int
}

// fork copies b for another path. The steps so far become a shared
// segment, and the assumptions slice is capped so appends on either side
// never overwrite the other's.
func (b *branch) fork() *branch {
	if len(b.steps) > 0 {
		b.prefix = &stepSeg{parent: b.prefix, steps: b.steps, n: b.nsteps()}
		b.steps = nil
	}
	c := *b
	c.assumptions = b.assumptions[:len(b.assumptions):len(b.assumptions)]
	return &c
}

// nsteps is the number of steps of the branch so far.
func (b *branch) nsteps() int {
	n := len(b.steps)
	if b.prefix != nil {
		n += b.prefix.n
	}
	return n
}

func (b *branch) outcome() Outcome {
	o := Outcome{
		Verdict: b.verdict, DNATTarget: b.dnat, RejectWith: b.rejectWith,
		Probability: b.prob, Masquerade: b.masquerade, Mark: b.pkt.Mark,
		Affinity: b.affinity, Assumptions: b.assumptions, Decisive: b.decisive,
		path: &stepSeg{parent: b.prefix, steps: b.steps, n: b.nsteps()},
	}
	if o.Verdict == "" {
		o.Verdict = VerdictAccept
		if b.dnat != "" {
			o.Verdict = VerdictDNAT
			o.Destination = b.dest
		}
	}
	return o
}

type walker struct {
	d        *Dump
	node     Node
	outcomes int
	evals    int
}

type hook struct{ table, chain string }

// pipeline runs the tables in netfilter's order for the entry point. nat
// sees the first packet before filter, so filter rules see the DNATed
// destination; with no endpoints there is no DNAT and kube-proxy's filter
// rules match the ClusterIP itself.
func (w *walker) pipeline(b *branch, entry dataplane.Entry) ([]*branch, error) {
	pre := []hook{{"raw", "PREROUTING"}, {"mangle", "PREROUTING"}, {"nat", "PREROUTING"}}
	if entry == dataplane.EntryNode {
		pre = []hook{{"raw", "OUTPUT"}, {"mangle", "OUTPUT"}, {"nat", "OUTPUT"}, {"filter", "OUTPUT"}}
	}
	live, done, err := w.stage([]*branch{b}, pre)
	if err != nil {
		return nil, err
	}
	post := []hook{{"mangle", "POSTROUTING"}, {"nat", "POSTROUTING"}}
	var fwd, local []*branch
	for _, x := range live {
		if entry != dataplane.EntryNode && w.isLocal(x.pkt.Dst) == yes {
			local = append(local, x)
		} else {
			fwd = append(fwd, x)
		}
	}
	rest := post
	if entry != dataplane.EntryNode {
		rest = append([]hook{{"mangle", "FORWARD"}, {"filter", "FORWARD"}}, post...)
	}
	fwd, d1, err := w.stage(fwd, rest)
	if err != nil {
		return nil, err
	}
	local, d2, err := w.stage(local, []hook{{"mangle", "INPUT"}, {"filter", "INPUT"}, {"nat", "INPUT"}})
	if err != nil {
		return nil, err
	}
	out := append(append(append(done, d1...), d2...), fwd...)
	return append(out, local...), nil
}

// stage walks every live branch through the hooks in order and separates
// the branches still alive from those a verdict ended.
func (w *walker) stage(live []*branch, hooks []hook) (alive, done []*branch, err error) {
	for _, h := range hooks {
		c := w.d.Chain(h.table, h.chain)
		if c == nil {
			continue
		}
		var next []*branch
		for _, b := range live {
			b.hook, b.stopped = h.chain, false
			out, err := w.exec(c, 0, b, 0)
			if err != nil {
				return nil, nil, err
			}
			for _, x := range out {
				if !x.stopped {
					w.policy(c, x)
				}
				if x.verdict != "" {
					done = append(done, x)
				} else {
					next = append(next, x)
				}
			}
		}
		live = next
	}
	return live, done, nil
}

func (w *walker) policy(c *Chain, b *branch) {
	b.steps = append(b.steps, Step{Chain: c, Hook: b.hook, Result: Policy, Note: "policy " + c.Policy, Probability: b.prob})
	if c.Policy == "DROP" {
		b.verdict, b.decisive = VerdictDrop, b.nsteps()-1
	}
}

// exec runs chain c from rule i and returns the branches that left it,
// either returned (stopped false) or ended by a verdict (stopped true).
func (w *walker) exec(c *Chain, i int, b *branch, depth int) ([]*branch, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("%w: jumps nest deeper than %d at %s %s; check for a jump cycle", ErrLoop, maxDepth, c.Table, c.Name)
	}
	if n := len(c.Rules) - i; cap(b.steps)-len(b.steps) < n {
		b.steps = slices.Grow(b.steps, n)
	}
	for ; i < len(c.Rules); i++ {
		r := c.Rules[i]
		if w.evals++; w.evals > maxEvals {
			return nil, fmt.Errorf("%w: gave up after %d rule evaluations at %s; the ruleset branches too much to walk", ErrLoop, maxEvals, r)
		}
		m := w.evalRule(r, b)
		if m.no {
			b.steps = append(b.steps, w.step(b, c, r, NotMatched, m.note))
			continue
		}
		if len(m.assume) == 0 && m.prob == 1 {
			b.steps = append(b.steps, w.step(b, c, r, Matched, ""))
			return w.act(c, i, r, b, depth)
		}
		return w.fork(c, i, r, b, m, depth)
	}
	return []*branch{b}, nil
}

// fork follows both sides of a rule whose outcome is a probability or an
// assumption.
func (w *walker) fork(c *Chain, i int, r *Rule, b *branch, m ruleMatch, depth int) ([]*branch, error) {
	w.outcomes++
	if w.outcomes > maxOutcomes {
		return nil, fmt.Errorf("more than %d branches at %s; the ruleset forks too much to walk", maxOutcomes, r)
	}
	miss := b.fork()
	var out []*branch
	if len(m.assume) > 0 {
		miss.assumptions = append(miss.assumptions, m.denied...)
		if m.fresh {
			miss.affinity = "fresh"
		}
		miss.steps = append(miss.steps, w.step(miss, c, r, AssumedNotMatched, m.note))
		hit := b.fork()
		hit.assumptions = append(hit.assumptions, m.assume...)
		if m.sticky {
			hit.affinity = "sticky"
		}
		if m.prob < 1 {
			return w.splitProb(c, i, r, hit, miss, m, depth)
		}
		hit.steps = append(hit.steps, w.step(hit, c, r, AssumedMatched, m.note))
		res, err := w.act(c, i, r, hit, depth)
		if err != nil {
			return nil, err
		}
		out = res
	} else {
		return w.splitProb(c, i, r, b, nil, m, depth)
	}
	rest, err := w.exec(c, i+1, miss, depth)
	return append(out, rest...), err
}

// splitProb forks hit by the rule's probability; extra is another branch
// that skips the rule (an assumption's denied side), or nil.
func (w *walker) splitProb(c *Chain, i int, r *Rule, hit, extra *branch, m ruleMatch, depth int) ([]*branch, error) {
	miss := hit.fork()
	note := "probability " + strconv.FormatFloat(m.prob, 'g', 6, 64)
	hit.prob *= m.prob
	miss.prob *= 1 - m.prob
	var out []*branch
	if hit.prob > 0 {
		hit.steps = append(hit.steps, w.step(hit, c, r, Matched, note))
		res, err := w.act(c, i, r, hit, depth)
		if err != nil {
			return nil, err
		}
		out = res
	}
	for _, x := range []*branch{miss, extra} {
		if x == nil || x.prob <= 0 {
			continue
		}
		if x == miss {
			x.steps = append(x.steps, w.step(x, c, r, NotMatched, note))
		}
		res, err := w.exec(c, i+1, x, depth)
		if err != nil {
			return nil, err
		}
		out = append(out, res...)
	}
	return out, nil
}

func (w *walker) step(b *branch, c *Chain, r *Rule, res StepResult, note string) Step {
	return Step{Chain: c, Hook: b.hook, Rule: r, Result: res, Note: note, Probability: b.prob}
}
