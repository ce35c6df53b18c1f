package chains

import (
	"net"
	"net/netip"
	"regexp"
	"strconv"
	"strings"

	"github.com/svctrace/kubectl-svctrace/trace"
)

// spot is where in the listings a dataplane finding points, from what the
// finding carries: the chain its subject names, the dump line its message
// quotes, and text a rule holds (an endpoint, a real server, a VIP), in
// the named chain or, when anywhere is set, in any.
type spot struct {
	id, table, chain, needle string
	anywhere                 bool
	line                     int
}

// quotedLine is how drift messages quote the node's rule: "(line 79)".
var quotedLine = regexp.MustCompile(`\(line (\d+)\)`)

// IsDataplane reports whether a finding's subject is a proxy's rule set or
// connection tracking table, whose place is this screen.
func IsDataplane(subject string) bool {
	_, ok := spotOf(trace.Finding{Subject: subject})
	return ok
}

// spotOf reads the subjects trace gives dataplane findings:
// iptables/TABLE/CHAIN, nftables/CHAIN|ENDPOINT|ELEMENT, ipvs/VS[ -> RS]
// and conntrack/"PROTO VIP:PORT from CLIENT".
func spotOf(f trace.Finding) (spot, bool) {
	kind, rest, _ := strings.Cut(f.Subject, "/")
	s := spot{id: f.ID}
	switch kind {
	case "iptables":
		s.table, s.chain, _ = strings.Cut(rest, "/")
	case "nftables":
		s.chain, s.needle, s.anywhere = rest, rest, true
	case "ipvs":
		s.chain, s.needle, _ = strings.Cut(rest, " -> ")
	case "conntrack":
		// The entry is not a rule: point at the rules for its VIP.
		if fs := strings.Fields(rest); len(fs) > 1 {
			s.needle, s.anywhere = fs[1], true
			if host, _, err := net.SplitHostPort(fs[1]); err == nil {
				s.needle = host
			}
		}
	default:
		return spot{}, false
	}
	// Other dumps' lines (conntrack's) are not the listing's.
	if m := quotedLine.FindStringSubmatch(f.Message); m != nil && kind == "iptables" {
		s.line, _ = strconv.Atoi(m[1])
	}
	return s, true
}

// score ranks row r as the place of s: the quoted line of the named chain
// first, then its rule marked with the finding, a rule of it holding the
// needle, its header, and last any rule marked with the finding; 0 is no
// match.
func (s spot) score(c trace.ChainListing, rule int) int {
	named := s.chain != "" && c.Name == s.chain && (s.table == "" || c.Table == "" || c.Table == s.table)
	if rule < 0 {
		if named {
			return 2
		}
		return 0
	}
	r := c.Rules[rule]
	switch {
	case named && s.line > 0 && r.Line == s.line:
		return 5
	case named && r.Drift == s.id:
		return 4
	case (named || s.anywhere) && s.needle != "" && holds(r.Text, s.needle):
		return 3
	case r.Drift == s.id:
		return 1
	}
	return 0
}

// holds reports whether text names needle: an address as a word, alone or
// with a prefix length or port ("10.96.0.10/32", "10.244.1.7:9376"), an
// endpoint also as nftables writes it in a map ("10.244.1.7 . 9376"), and
// anything with spaces (an nftables element) as it is.
func holds(text, needle string) bool {
	if strings.Contains(needle, " ") {
		return strings.Contains(text, needle)
	}
	if ap, err := netip.ParseAddrPort(needle); err == nil && strings.Contains(text, ap.Addr().String()+" . "+strconv.Itoa(int(ap.Port()))) {
		return true
	}
	for _, w := range strings.Fields(text) {
		w = strings.Trim(w, `",;{}`)
		if w == needle || strings.HasPrefix(w, needle+"/") || strings.HasPrefix(w, needle+":") {
			return true
		}
	}
	return false
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
