package nftables

import (
	"fmt"
	"strconv"
	"strings"

	"sigs.k8s.io/knftables"
)

// ParseRule reads a rule as kube-proxy sends it to nft (the Rule of a
// knftables.Rule) into the statements `nft -j list ruleset` lists for it,
// with nft's rewrites applied: hexadecimal marks become decimal, a one
// element inline set becomes its element, an inline set of addresses is
// sorted, a bare reject gains its ICMP type, "dnat ip addr . port to"
// becomes "dnat ip to". So a rule kube-proxy
// writes and the rule a node lists compare equal. It reads the grammar
// kube-proxy's rules use, not every nft rule.
func ParseRule(family knftables.Family, text string) ([]Stmt, error) {
	p := &ruleParser{family: family, toks: ruleTokens(text)}
	var out []Stmt
	for !p.done() {
		st, err := p.stmt()
		if err != nil {
			return nil, fmt.Errorf("rule %q: %w", text, err)
		}
		out = append(out, st)
	}
	return out, nil
}

// ruleTokens splits a rule at spaces, with the braces, commas and colons
// of inline sets and maps as tokens of their own. An address's colons
// ("10.0.0.1:80", "fd00::1") stay inside it: kube-proxy spaces a map's
// colon.
func ruleTokens(text string) []string {
	var out []string
	for _, f := range strings.Fields(text) {
		// Service CIDRs are joined by a bare comma ("a,b").
		for i, part := range strings.Split(f, ",") {
			if i > 0 {
				out = append(out, ",")
			}
			if part != "" {
				out = append(out, part)
			}
		}
	}
	return out
}

type ruleParser struct {
	family knftables.Family
	toks   []string
	i      int
}

func (p *ruleParser) done() bool { return p.i >= len(p.toks) }

func (p *ruleParser) peek() string {
	if p.done() {
		return ""
	}
	return p.toks[p.i]
}

func (p *ruleParser) next() string {
	t := p.peek()
	p.i++
	return t
}

func (p *ruleParser) expect(tok string) error {
	if got := p.next(); got != tok {
		return fmt.Errorf("want %q, got %q", tok, got)
	}
	return nil
}

func (p *ruleParser) stmt() (Stmt, error) {
	switch t := p.peek(); t {
	case "accept", "drop", "return", "continue":
		p.next()
		return Verdict{Kind: t}, nil
	case "jump", "goto":
		p.next()
		return Verdict{Kind: t, Target: p.next()}, nil
	case "reject":
		p.next()
		icmp := "icmp"
		if p.family == knftables.IPv6Family {
			icmp = "icmpv6"
		}
		return Reject{Type: icmp, Code: "port-unreachable"}, nil
	case "masquerade":
		p.next()
		n := NAT{Kind: "masquerade"}
		for p.peek() == "fully-random" || p.peek() == "random" || p.peek() == "persistent" {
			n.Flags = append(n.Flags, p.next())
		}
		return n, nil
	case "dnat":
		return p.dnat()
	case "update", "add":
		return p.setUpdate()
	}
	return p.exprStmt()
}

// dnat reads "dnat to ADDR:PORT" and "dnat ip addr . port to numgen ...
// map { ... }".
func (p *ruleParser) dnat() (Stmt, error) {
	p.next()
	n := NAT{Kind: "dnat"}
	if t := p.peek(); t == "ip" || t == "ip6" {
		n.Family = p.next()
		if p.peek() == "addr" {
			p.i += 3 // "addr . port": nft lists the family alone
		}
	}
	if err := p.expect("to"); err != nil {
		return nil, err
	}
	if p.peek() == "numgen" {
		key, err := p.concat()
		if err != nil {
			return nil, err
		}
		if err := p.expect("map"); err != nil {
			return nil, err
		}
		data, err := p.value()
		if err != nil {
			return nil, err
		}
		n.Addr = MapLookup{Key: key, Data: data}
		return n, nil
	}
	host, port, err := splitHostPort(p.next())
	if err != nil {
		return nil, err
	}
	n.Addr, n.Port = Value(host), Value(port)
	return n, nil
}

func splitHostPort(s string) (string, string, error) {
	i := strings.LastIndex(s, ":")
	if i < 0 {
		return "", "", fmt.Errorf("dnat target %q has no port", s)
	}
	return strings.Trim(s[:i], "[]"), s[i+1:], nil
}

// setUpdate reads "update @set { EXPR }".
func (p *ruleParser) setUpdate() (Stmt, error) {
	op := p.next()
	set := strings.TrimPrefix(p.next(), "@")
	if err := p.expect("{"); err != nil {
		return nil, err
	}
	e, err := p.concat()
	if err != nil {
		return nil, err
	}
	return SetUpdate{Op: op, Set: set, Elem: e}, p.expect("}")
}

// exprStmt reads a statement that starts with an expression: a match
// ("ip daddr @set", "mark and 0x4000 != 0"), a verdict map ("... vmap
// @map") or a mangle ("mark set mark or 0x4000").
func (p *ruleParser) exprStmt() (Stmt, error) {
	left, err := p.concat()
	if err != nil {
		return nil, err
	}
	switch t := p.peek(); t {
	case "vmap":
		p.next()
		data, err := p.value()
		return VMap{Key: left, Data: data}, err
	case "set":
		p.next()
		v, err := p.operand()
		return Mangle{Key: left, Value: v}, err
	}
	if op, ok := binops[p.peek()]; ok {
		p.next()
		right := p.literal(p.next())
		left = Binop{Op: op, Left: left, Right: right}
	}
	op := "=="
	if _, flags := left.(CT); flags {
		op = "in" // ct state and status are bitmasks: nft matches "in"
	}
	if t := p.peek(); t == "!=" || t == "==" {
		op = p.next()
	}
	right, err := p.value()
	return Match{Op: op, Left: left, Right: right}, err
}

// binops are the bitwise operators as kube-proxy spells them and as nft
// lists them.
var binops = map[string]string{"and": "&", "or": "|", "xor": "^", "&": "&", "|": "|", "^": "^"}

// operand is an expression, possibly combined with one bitwise operator
// ("mark or 0x4000").
func (p *ruleParser) operand() (Expr, error) {
	e, err := p.term()
	if err != nil {
		return nil, err
	}
	if op, ok := binops[p.peek()]; ok {
		p.next()
		return Binop{Op: op, Left: e, Right: p.literal(p.next())}, nil
	}
	return e, nil
}

// concat reads "a . b . c" (or a single term).
func (p *ruleParser) concat() (Expr, error) {
	var parts Concat
	for {
		e, err := p.term()
		if err != nil {
			return nil, err
		}
		parts = append(parts, e)
		if p.peek() != "." {
			break
		}
		p.next()
	}
	if len(parts) == 1 {
		return parts[0], nil
	}
	return parts, nil
}

// term is one packet or metadata expression, or a literal.
func (p *ruleParser) term() (Expr, error) {
	switch t := p.next(); t {
	case "":
		return nil, fmt.Errorf("rule ends where an expression should be")
	case "ip", "ip6", "th":
		return Payload{Proto: t, Field: p.next()}, nil
	case "tcp", "udp", "sctp":
		if f := p.peek(); f == "dport" || f == "sport" {
			return Payload{Proto: t, Field: p.next()}, nil
		}
		return Value(t), nil
	case "meta":
		return Meta{Key: p.next()}, nil
	case "mark", "l4proto", "iifname", "oifname":
		return Meta{Key: t}, nil
	case "ct":
		return CT{Key: p.next()}, nil
	case "fib":
		f := Fib{Flags: []string{p.next()}}
		for p.peek() == "." {
			p.next()
			f.Flags = append(f.Flags, p.next())
		}
		f.Result = p.next()
		return f, nil
	case "numgen":
		n := Numgen{Mode: p.next()}
		if err := p.expect("mod"); err != nil {
			return nil, err
		}
		mod, err := strconv.Atoi(p.next())
		if err != nil {
			return nil, fmt.Errorf("numgen modulus: %w", err)
		}
		n.Mod = mod
		return n, nil
	default:
		return p.literal(t), nil
	}
}
