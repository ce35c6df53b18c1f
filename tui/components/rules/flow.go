package rules

import (
	"slices"
	"strings"

	"github.com/svctrace/kubectl-svctrace/dataplane"
)

// Flow is what one packet walk says about the rules: the chance of
// entering each chain and of each rule matching, read from the
// probabilities the walk's steps carry (dataplane.Step.Probability), and
// which of them only clients pinned by ClientIP affinity take.
type Flow struct {
	reach  map[chainKey]float64
	sticky map[chainKey]bool
	shares map[ruleKey]Share
	// outcomes are kept to label endpoint chains with their DNAT target
	// (target caches the answer per chain, "" when none) and, for walks
	// without steps (IPVS), to give each real server its outcome's share.
	outcomes []dataplane.Outcome
	target   map[string]string
	stepless bool
}

type chainKey struct{ table, chain string }

type ruleKey struct {
	chainKey
	rule string
}

// Share is what a walk says about one rule.
type Share struct {
	// Known is set when a walk matched the rule.
	Known bool
	// P is the chance that a fresh client's packet matches it.
	P float64
	// Sticky is set when only clients pinned by ClientIP affinity match
	// it: P does not apply.
	Sticky bool
}

// Pinned reports whether o is the path of a client that ClientIP affinity
// already pinned to an endpoint: an alternative to the fresh paths, each
// of probability 1, not a share of the traffic.
func Pinned(o dataplane.Outcome) bool { return o.Affinity == "sticky" }

// FlowOf reads the shares of one packet walk. Steps are a tree in
// depth-first order (dataplane.Walk.Steps), each step a distinct place
// with the probability of getting past it, so a chain's reach is the sum
// over the steps entering it, once on each path. Outcomes resting on
// different assumptions (both sides of a match the walk could not
// evaluate) are alternatives, not shares: the sums are kept per set of
// assumptions and the chain or rule shows the largest.
func FlowOf(w dataplane.Walk) Flow {
	f := Flow{reach: map[chainKey]float64{}, sticky: map[chainKey]bool{}, shares: map[ruleKey]Share{},
		target: map[string]string{}, stepless: len(w.Steps) == 0}
	for _, o := range w.Outcomes {
		if o.Target != "" || f.stepless {
			f.outcomes = append(f.outcomes, o)
		}
	}
	pred := predecessors(w.Steps)
	fresh, worlds := subtrees(w, pred)
	reach := map[string]map[chainKey]float64{}
	match := map[string]map[ruleKey]float64{}
	for i, s := range w.Steps {
		ck := chainKey{s.Table, s.Chain}
		rk := ruleKey{ck, s.Rule}
		entry := entered(w.Steps, pred, i)
		if !fresh[i] {
			if entry {
				f.sticky[ck] = true
			}
			if s.Matched {
				f.shares[rk] = Share{Known: true, Sticky: true}
			}
			continue
		}
		world := worlds[i]
		if reach[world] == nil {
			reach[world], match[world] = map[chainKey]float64{}, map[ruleKey]float64{}
		}
		if entry {
			reach[world][ck] += s.Probability
		}
		if s.Matched {
			match[world][rk] += s.Probability
		}
	}
	// What every world shares ("" holds the steps before any fork and the
	// outcomes resting on no assumption) counts in each of them.
	for world := range reach {
		if world == "" {
			continue
		}
		for k, p := range reach[""] {
			reach[world][k] += p
		}
		for k, p := range match[""] {
			match[world][k] += p
		}
	}
	for _, m := range reach {
		for k, p := range m {
			f.reach[k] = max(f.reach[k], p)
		}
	}
	for _, m := range match {
		for k, p := range m {
			f.shares[k] = Share{Known: true, P: max(f.shares[k].P, p)}
		}
	}
	for k := range f.reach {
		delete(f.sticky, k)
	}
	return f
}

// subtrees tells, for each step, whether the path of a fresh client's
// outcome (one ClientIP affinity has not pinned) passes it, and the
// assumptions of those outcomes when they all share them ("" when they
// differ, or rest on none). A step is on the stretch of one branch but
// may lead to later ones too: the side of a fork a later outcome takes.
func subtrees(w dataplane.Walk, pred []int) ([]bool, []string) {
	fresh := make([]bool, len(w.Steps))
	worlds := make([]string, len(w.Steps))
	last := map[int]int{}
	lastShared := -1
	for i, s := range w.Steps {
		last[s.Branch] = i
		if s.Branch == 0 {
			lastShared = i
		}
	}
	for b, o := range w.Outcomes {
		if Pinned(o) {
			continue
		}
		world := strings.Join(o.Assumptions, "\x00")
		end, ok := last[b+1]
		if !ok {
			end = lastShared
		}
		for i := end; i >= 0; i = pred[i] {
			switch {
			case !fresh[i]:
				fresh[i], worlds[i] = true, world
				continue
			case worlds[i] == world:
			case worlds[i] != "":
				worlds[i] = ""
				continue
			}
			break
		}
	}
	return fresh, worlds
}

// predecessors gives each step the one before it on its path, -1 for the
// first. A branch's own stretch starts where its path parts from the
// previous outcome's, at another side of the rule that forked them; that
// sibling step, the latest earlier one at the same rule, has the same
// predecessor. Without one the branch goes on from the shared path.
func predecessors(steps []dataplane.Step) []int {
	pred := make([]int, len(steps))
	lastShared := -1
	for i, s := range steps {
		switch {
		case s.Branch == 0:
			pred[i], lastShared = lastShared, i
		case i > 0 && steps[i-1].Branch == s.Branch:
			pred[i] = i - 1
		default:
			pred[i] = lastShared
			for j := i - 1; j >= 0 && steps[j].Branch != 0; j-- {
				if sameRule(steps[j], s) {
					pred[i] = pred[j]
					break
				}
			}
		}
	}
	return pred
}

func sameRule(a, b dataplane.Step) bool {
	return a.Table == b.Table && a.Chain == b.Chain && a.Line == b.Line && a.Rule == b.Rule
}

// entered reports whether step i enters its chain: it is the first step,
// or it follows a step of another chain and its chain is not already on
// the path — coming back to it after a RETURN, or entering it a second
// time, does not add packets to it.
func entered(steps []dataplane.Step, pred []int, i int) bool {
	p := pred[i]
	if p < 0 {
		return true
	}
	if steps[p].Table == steps[i].Table && steps[p].Chain == steps[i].Chain {
		return false
	}
	for ; p >= 0; p = pred[p] {
		if steps[p].Table == steps[i].Table && steps[p].Chain == steps[i].Chain {
			return false
		}
	}
	return true
}

// Reach is the chance that a fresh client's packet enters c, when the walk
// enters it.
func (f Flow) Reach(c dataplane.Listing) (float64, bool) {
	p, ok := f.reach[chainKey{c.Table, c.Name}]
	return p, ok
}

// StickyOnly reports whether only clients pinned by ClientIP affinity
// enter c.
func (f Flow) StickyOnly(c dataplane.Listing) bool { return f.sticky[chainKey{c.Table, c.Name}] }

// Share is what the walk says about the rule with text in c. A walk
// without steps (IPVS) gives a real server its outcome's share.
func (f Flow) Share(c dataplane.Listing, text string) Share {
	if sh, ok := f.shares[ruleKey{chainKey{c.Table, c.Name}, text}]; ok {
		return sh
	}
	if !f.stepless {
		return Share{}
	}
	for _, o := range f.outcomes {
		if o.Target == "" || !slices.Contains(o.Chains, c.Name) || !strings.HasPrefix(text, "-> "+o.Target+" ") {
			continue
		}
		if Pinned(o) {
			return Share{Known: true, Sticky: true}
		}
		return Share{Known: true, P: o.Probability}
	}
	return Share{}
}
