package chains

import (
	"slices"

	"github.com/svctrace/kubectl-svctrace/dataplane"
	"github.com/svctrace/kubectl-svctrace/trace"
)

// spot is where in the listings a dataplane finding points: its kind and
// its place as the trace located it.
type spot struct {
	id dataplane.DiffKind
	at dataplane.Locator
}

// IsDataplane reports whether a finding is about a place in a proxy's rule
// set or connection tracking table, whose place is this screen.
func IsDataplane(f trace.Finding) bool { return f.Where != nil }

func spotOf(f trace.Finding) (spot, bool) {
	if f.Where == nil {
		return spot{}, false
	}
	return spot{id: dataplane.DiffKind(f.ID), at: *f.Where}, true
}

// names reports whether listing c is the chain (or virtual server) s is
// in; an iptables chain must be of the same table.
func (s spot) names(c dataplane.Listing) bool {
	if s.at.Chain == "" || c.Name != s.at.Chain {
		return false
	}
	return s.at.Mode != dataplane.ModeIPTables || c.Table == "" || c.Table == s.at.Table
}

// holds reports whether line r is at s's place by what the line carries:
// the endpoint it sends to, the element it lists, or, for a conntrack
// flow, the Service address it matches.
func (s spot) holds(r dataplane.RuleLine) bool {
	at, w := s.at, r.Where
	switch {
	case at.Mode == dataplane.ModeConntrack:
		vip := at.Service.Addr()
		return vip.IsValid() && (w.Address == vip || w.Service.Addr() == vip)
	case at.Set != "":
		return w.Set == at.Set && slices.Equal(w.Element, at.Element)
	case at.Endpoint.IsValid():
		return w.Endpoint == at.Endpoint
	case at.Address.IsValid():
		return w.Address == at.Address
	}
	return false
}

// score ranks row r as the place of s: the rule at the located line of the
// named chain first, then its rule marked with the finding, a line holding
// the place, its header, and last any rule marked with the finding; 0 is
// no match.
func (s spot) score(c dataplane.Listing, rule int) int {
	named := s.names(c)
	if rule < 0 {
		if named {
			return 2
		}
		return 0
	}
	r := c.Rules[rule]
	switch {
	case named && s.at.Line > 0 && r.Line == s.at.Line:
		return 5
	case named && r.Drift == s.id:
		return 4
	case s.holds(r):
		return 3
	case r.Drift == s.id:
		return 1
	}
	return 0
}

// Jump shows the rule or chain a dataplane finding is about, in whichever
// view (node and port) lists it, the current one first, clearing a filter
// that would hide it. It reports false, leaving the screen as it was, when
// no listed rule or chain matches.
func (p *Page) Jump(f trace.Finding) bool {
	s, ok := spotOf(f)
	if !ok || len(p.choices) == 0 {
		return false
	}
	best, at, want := 0, 0, row{}
	var idx []int
	for n := range p.choices {
		ci := (p.choice + n) % len(p.choices)
		idx = p.shown(p.choices[ci], idx[:0])
		chains := p.hops.Dataplane[p.choices[ci].hop].Chains
		for _, i := range idx {
			for r := -1; r < len(chains[i].Rules); r++ {
				if sc := s.score(chains[i], r); sc > best {
					best, at, want = sc, ci, row{int32(i), int32(r)}
				}
			}
		}
	}
	if best == 0 {
		return false
	}
	p.list.ClearFilter()
	p.choose(at)
	for i, r := range p.rows {
		if r == want {
			p.list.SetCursor(i)
		}
	}
	return true
}
