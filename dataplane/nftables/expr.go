package nftables

import (
	"strconv"
	"strings"
)

// Expr is one nftables expression (the operands of matches, map keys, NAT
// targets). String renders it the way `nft list` prints it.
type Expr interface{ String() string }

// Payload is a packet header field such as "ip daddr" or "th dport".
type Payload struct{ Proto, Field string }

// Meta is "meta KEY", e.g. meta l4proto or meta mark.
type Meta struct{ Key string }

// CT is "ct KEY", e.g. ct state or ct status.
type CT struct{ Key string }

// Fib is a routing lookup such as "fib saddr type".
type Fib struct {
	Flags  []string
	Result string
}

// Numgen is "numgen random mod N [offset O]".
type Numgen struct {
	Mode        string
	Mod, Offset int
}

// Concat is "a . b . c".
type Concat []Expr

// Value is a literal: an address, number, protocol or other symbol.
type Value string

// Prefix is an address prefix such as 10.0.0.0/8.
type Prefix struct {
	Addr string
	Len  int
}

// Range is "lo-hi".
type Range struct{ Lo, Hi Expr }

// SetRef names a set or map: "@name".
type SetRef string

// AnonSet is an inline set "{ a, b }".
type AnonSet []Expr

// MapElem is one "key : value" pair of an inline map.
type MapElem struct{ Key, Value Expr }

// AnonMap is an inline map "{ k : v, ... }".
type AnonMap []MapElem

// MapLookup is "KEY map DATA" where DATA is a SetRef or an AnonMap.
type MapLookup struct{ Key, Data Expr }

// Binop is a bitwise operation such as "meta mark & 0x4000".
type Binop struct {
	Op          string
	Left, Right Expr
}

// VerdictExpr is a verdict used as map data: "goto chain", "drop".
type VerdictExpr struct{ Kind, Target string }

func (p Payload) String() string { return p.Proto + " " + p.Field }
func (m Meta) String() string    { return "meta " + m.Key }
func (c CT) String() string      { return "ct " + c.Key }
func (f Fib) String() string     { return "fib " + strings.Join(f.Flags, " . ") + " " + f.Result }
func (n Numgen) String() string {
	s := "numgen " + n.Mode + " mod " + strconv.Itoa(n.Mod)
	if n.Offset != 0 {
		s += " offset " + strconv.Itoa(n.Offset)
	}
	return s
}
func (c Concat) String() string    { return joinExprs(c, " . ") }
func (v Value) String() string     { return string(v) }
func (p Prefix) String() string    { return p.Addr + "/" + strconv.Itoa(p.Len) }
func (r Range) String() string     { return r.Lo.String() + "-" + r.Hi.String() }
func (s SetRef) String() string    { return "@" + string(s) }
func (s AnonSet) String() string   { return "{ " + joinExprs(s, ", ") + " }" }
func (m MapLookup) String() string { return m.Key.String() + " map " + m.Data.String() }
func (b Binop) String() string     { return b.Left.String() + " " + b.Op + " " + b.Right.String() }
func (v VerdictExpr) String() string {
	if v.Target == "" {
		return v.Kind
	}
	return v.Kind + " " + v.Target
}
func (m AnonMap) String() string {
	parts := make([]string, len(m))
	for i, e := range m {
		parts[i] = e.Key.String() + " : " + e.Value.String()
	}
	return "{ " + strings.Join(parts, ", ") + " }"
}

func joinExprs(es []Expr, sep string) string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.String()
	}
	return strings.Join(parts, sep)
}

// Stmt is one statement of a rule.
type Stmt interface{ String() string }

// Match compares Left with Right; Op is "==", "!=", "in", "<", ">" and so on.
type Match struct {
	Op          string
	Left, Right Expr
}

// Verdict is accept, drop, continue, return, jump TARGET or goto TARGET.
type Verdict struct{ Kind, Target string }

// VMap is "KEY vmap DATA": a verdict looked up in a map.
type VMap struct{ Key, Data Expr }

// NAT is dnat, snat, masquerade or redirect. Family is "ip"/"ip6" when the
// rule spelled it out ("dnat ip to ..."); Addr may be a MapLookup.
type NAT struct {
	Kind, Family string
	Addr, Port   Expr
	Flags        []string
}

// Reject is "reject [with TYPE CODE]".
type Reject struct{ Type, Code string }

// Mangle sets a field: "meta mark set meta mark | 0x4000".
type Mangle struct{ Key, Value Expr }

// SetUpdate is "update @set { elem }" (or add/delete).
type SetUpdate struct {
	Op, Set string
	Elem    Expr
}

// Counter is an anonymous or named counter; it never changes the verdict.
type Counter struct{ Name string }

// Unknown keeps a statement this package does not model, verbatim.
type Unknown struct{ Raw string }

func (m Match) String() string {
	switch {
	case m.Op == "==" || m.Op == "in":
		return m.Left.String() + " " + m.Right.String()
	default:
		return m.Left.String() + " " + m.Op + " " + m.Right.String()
	}
}
func (v Verdict) String() string { return VerdictExpr(v).String() }
func (v VMap) String() string    { return v.Key.String() + " vmap " + v.Data.String() }
func (n NAT) String() string {
	s := n.Kind
	if n.Addr == nil && n.Port == nil {
		return strings.TrimSpace(s + " " + strings.Join(n.Flags, " "))
	}
	if n.Family != "" {
		s += " " + n.Family
	}
	s += " to "
	switch {
	case n.Addr != nil && n.Port != nil:
		s += joinHostPort(n.Addr.String(), n.Port.String())
	case n.Addr != nil:
		s += n.Addr.String()
	default:
		s += ":" + n.Port.String()
	}
	if len(n.Flags) > 0 {
		s += " " + strings.Join(n.Flags, " ")
	}
	return s
}
func (r Reject) String() string {
	if r.Type == "" {
		return "reject"
	}
	return "reject with " + r.Type + " " + r.Code
}
func (m Mangle) String() string    { return m.Key.String() + " set " + m.Value.String() }
func (s SetUpdate) String() string { return s.Op + " @" + s.Set + " { " + s.Elem.String() + " }" }
func (c Counter) String() string {
	if c.Name == "" {
		return "counter"
	}
	return "counter name " + strconv.Quote(c.Name)
}
func (u Unknown) String() string { return u.Raw }

func joinHostPort(host, port string) string {
	if strings.Contains(host, ":") {
		return "[" + host + "]:" + port
	}
	return host + ":" + port
}

// stmtsText renders a rule body like `nft list` does (without the comment).
func stmtsText(stmts []Stmt) string {
	parts := make([]string, len(stmts))
	for i, s := range stmts {
		parts[i] = s.String()
	}
	return strings.Join(parts, " ")
}
