package nftables

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/svctrace/kubectl-svctrace/dataplane"
)

// branch is one result of a map lookup: the element's value (nil when no
// element matched) reached with probability factor.
type branch struct {
	factor float64
	value  Expr
	mark
}

// mark is what a lookup tells the step that made it: a note for a reader,
// and as data whether the path forked on a numgen value there and whether
// the rule was skipped for want of an element.
type mark struct {
	note            string
	numgen, skipped bool
}

// lookup finds the element of data (a named map or an inline one) for key.
// A `numgen random mod N` key yields a branch per value with an element,
// each of weight 1/N, and one branch with a nil value for all values
// without an element: there the lookup fails and the rule does not apply.
func (w *walker) lookup(s *state, key, data Expr) []branch {
	if ng, ok := key.(Numgen); ok {
		out := make([]branch, 0, ng.Mod)
		var missing []string
		for i := 0; i < ng.Mod; i++ {
			v := strconv.Itoa(i + ng.Offset)
			b := w.find(s, []string{v}, data)
			if b.value == nil {
				missing = append(missing, v)
				continue
			}
			b.factor = 1 / float64(ng.Mod)
			b.mark = mark{note: fmt.Sprintf("numgen %d of %d", i+1, ng.Mod), numgen: true}
			out = append(out, b)
		}
		if len(missing) > 0 {
			// One branch for all holes keeps a huge mod from multiplying
			// the walk by branches that fare alike.
			out = append(out, branch{factor: float64(len(missing)) / float64(ng.Mod),
				mark: mark{note: "no map element for numgen " + listShort(missing, 5) + ": rule skipped", numgen: true, skipped: true}})
		}
		return out
	}
	vals, ok := w.eval(s, key)
	if !ok {
		return []branch{{factor: 1, mark: mark{note: "key " + key.String() + " not known for this packet"}}}
	}
	b := w.find(s, vals, data)
	b.factor = 1
	if b.value == nil {
		b.note = "no element for " + strings.Join(vals, " . ")
	}
	return []branch{b}
}

// listShort joins vals with commas, eliding all but the first max.
func listShort(vals []string, max int) string {
	if len(vals) <= max {
		return strings.Join(vals, ", ")
	}
	return fmt.Sprintf("%s, … %d more", strings.Join(vals[:max], ", "), len(vals)-max)
}

func (w *walker) find(s *state, vals []string, data Expr) branch {
	switch d := data.(type) {
	case SetRef:
		set := w.set(string(d))
		if set == nil {
			return branch{mark: mark{note: "map @" + string(d) + " does not exist"}}
		}
		el, ok := set.Lookup(vals)
		if !ok {
			return branch{}
		}
		return branch{value: valueExpr(el.Value)}
	case AnonMap:
		for _, el := range d {
			if w.equal(vals, el.Key) {
				return branch{value: el.Value}
			}
		}
	}
	return branch{}
}

// set finds a named set in the table family being walked.
func (w *walker) set(name string) *Set {
	for _, t := range w.rs.Tables {
		if t.Family == w.family || t.Family == "inet" {
			if s := t.Set(name); s != nil {
				return s
			}
		}
	}
	return nil
}

func valueExpr(fields []string) Expr {
	if len(fields) == 1 {
		return Value(fields[0])
	}
	c := make(Concat, len(fields))
	for i, f := range fields {
		c[i] = Value(f)
	}
	return c
}

// match evaluates one comparison against the packet.
func (w *walker) match(s *state, m Match) bool {
	vals, ok := w.eval(s, m.Left)
	if !ok {
		return false
	}
	var hit bool
	switch m.Op {
	case "==", "in", "":
		hit = w.equal(vals, m.Right)
	case "!=":
		return !w.equal(vals, m.Right)
	case "<", ">", "<=", ">=":
		return len(vals) == 1 && compareNum(vals[0], m.Op, m.Right.String())
	}
	return hit
}

// eval returns the packet's value for e as canonical fields; ok is false
// when the walk cannot know it (e.g. source port).
func (w *walker) eval(s *state, e Expr) ([]string, bool) {
	switch e := e.(type) {
	case Payload:
		return w.payload(s, e)
	case Meta:
		switch e.Key {
		case "l4proto", "protocol":
			return []string{s.pkt.Proto}, true
		case "mark":
			return []string{strconv.FormatUint(uint64(s.mark), 10)}, true
		case "nfproto":
			if w.family == "ip6" {
				return []string{"ipv6"}, true
			}
			return []string{"ipv4"}, true
		}
	case CT:
		switch e.Key {
		case "state":
			return []string{"new"}, true
		case "status":
			if s.dnat {
				return []string{"dnat"}, true
			}
			return []string{"none"}, true
		}
	case Fib:
		if e.Result != "type" || len(e.Flags) == 0 {
			return nil, false
		}
		local := false
		switch e.Flags[0] {
		case "saddr":
			local = s.pkt.Entry == dataplane.EntryNode || w.isLocal(s.pkt.Src)
		case "daddr":
			local = w.isLocal(s.pkt.Dst)
		}
		if local {
			return []string{"local"}, true
		}
		return []string{"unicast"}, true
	case Concat:
		var out []string
		for _, x := range e {
			v, ok := w.eval(s, x)
			if !ok {
				return nil, false
			}
			out = append(out, v...)
		}
		return out, true
	case Binop:
		l, ok := w.eval(s, e.Left)
		if !ok || len(l) != 1 {
			return nil, false
		}
		a, err1 := parseNum(l[0])
		b, err2 := parseNum(e.Right.String())
		if err1 != nil || err2 != nil {
			return nil, false
		}
		return []string{strconv.FormatUint(binop(e.Op, a, b), 10)}, true
	case Value:
		return []string{Canonical(string(e))}, true
	}
	return nil, false
}

func (w *walker) payload(s *state, p Payload) ([]string, bool) {
	switch p.Field {
	case "daddr", "saddr":
		if p.Proto != "ip" && p.Proto != "ip6" {
			return nil, false
		}
		a := s.pkt.Dst
		if p.Field == "saddr" {
			a = s.pkt.Src
		}
		if !a.IsValid() {
			return []string{"unknown"}, true
		}
		return []string{a.Unmap().String()}, true
	case "dport":
		if p.Proto != "th" && p.Proto != s.pkt.Proto {
			return []string{"-"}, true // "tcp dport" never matches a udp packet
		}
		return []string{strconv.Itoa(int(s.pkt.DstPort))}, true
	}
	return nil, false
}

// equal reports whether the packet fields vals match the right-hand side.
func (w *walker) equal(vals []string, right Expr) bool {
	switch r := right.(type) {
	case SetRef:
		set := w.set(string(r))
		if set == nil {
			return false
		}
		_, ok := set.Lookup(vals)
		return ok
	case AnonSet:
		for _, x := range r {
			if w.equal(vals, x) {
				return true
			}
		}
		return false
	case Concat:
		if len(r) != len(vals) {
			return false
		}
		for i, x := range r {
			if !w.equal(vals[i:i+1], x) {
				return false
			}
		}
		return true
	case Prefix, Range:
		return len(vals) == 1 && keyCovers(r.String(), vals[0])
	}
	return len(vals) == 1 && sameValue(vals[0], right.String())
}

// sameValue compares canonically, treating numbers in any base as equal.
func sameValue(a, b string) bool {
	if Canonical(a) == Canonical(b) {
		return true
	}
	x, err1 := parseNum(a)
	y, err2 := parseNum(b)
	return err1 == nil && err2 == nil && x == y
}

func parseNum(s string) (uint64, error) { return strconv.ParseUint(s, 0, 64) }

func compareNum(a, op, b string) bool {
	x, err1 := parseNum(a)
	y, err2 := parseNum(b)
	if err1 != nil || err2 != nil {
		return false
	}
	switch op {
	case "<":
		return x < y
	case ">":
		return x > y
	case "<=":
		return x <= y
	}
	return x >= y
}

func binop(op string, a, b uint64) uint64 {
	switch op {
	case "&":
		return a & b
	case "|":
		return a | b
	case "^":
		return a ^ b
	case "<<":
		return a << (b & 63)
	case ">>":
		return a >> (b & 63)
	}
	return a
}

// mangle applies "meta mark set ..."; other fields are not tracked.
func (w *walker) mangle(s *state, m Mangle) {
	if k, ok := m.Key.(Meta); !ok || k.Key != "mark" {
		return
	}
	v, ok := w.eval(s, m.Value)
	if !ok || len(v) != 1 {
		return
	}
	if n, err := parseNum(v[0]); err == nil {
		s.mark = uint32(n)
	}
}
