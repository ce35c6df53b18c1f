package iptables

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/svctrace/kubectl-svctrace/dataplane/iptables/savefmt"
)

// ParseError is a problem at one line of a dump.
type ParseError struct {
	Line int
	Msg  string
}

func (e *ParseError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

// Read reads all of r and parses it; see Parse.
func Read(r io.Reader) (*Dump, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read iptables dump: %w", err)
	}
	return Parse(string(b))
}

// Parse parses iptables-save output, or iptables-restore input as kube-proxy
// writes it, from either the legacy or the nft backend. Errors are
// *ParseError values naming the line. Rule texts share memory with text.
func Parse(text string) (*Dump, error) {
	p := parser{
		d:    &Dump{tables: map[string]*Table{}, byService: map[string][]*Rule{}},
		text: text,
	}
	if err := p.run(); err != nil {
		return nil, err
	}
	return p.d, nil
}

type parser struct {
	d    *Dump
	text string
	cur  *Table
	line int
	args []string // reused token buffer

	// Allocation pools; see newRule, newArgs and newMod.
	ruleSlab []Rule
	argSlab  []string
	modPool  []*modInst
	modUsed  int
	modList  []*modInst
}

func (p *parser) errorf(format string, a ...any) error {
	return &ParseError{Line: p.line, Msg: fmt.Sprintf(format, a...)}
}

func (p *parser) run() error {
	text := p.text
	for pos := 0; pos < len(text); {
		p.line++
		start := p.line
		end := lineEnd(text, pos)
		// A quoted comment containing a newline is printed raw by
		// iptables-save; keep reading lines until the quote closes.
		open := isRuleLine(text[pos:end]) && quoteOpenAfter(text[pos:end], false)
		for open && end < len(text) {
			next := lineEnd(text, end+1)
			open = quoteOpenAfter(text[end:next], true)
			end = next
			p.line++
		}
		line := strings.TrimSuffix(text[pos:end], "\r")
		pos = end + 1
		if err := p.parseLine(line, start); err != nil {
			return err
		}
	}
	if p.cur != nil {
		return &ParseError{Line: p.line, Msg: fmt.Sprintf("table %q started at line %d has no COMMIT; the dump looks truncated", p.cur.Name, p.cur.Line)}
	}
	p.d.lines = p.line
	return nil
}

// isRuleLine reports whether line is a command such as "-A ..." or
// "[0:0] -A ...", the only lines that may carry quoted arguments.
func isRuleLine(line string) bool {
	line = strings.TrimLeft(line, " \t")
	return line != "" && (line[0] == '-' || line[0] == '[')
}

// lineEnd returns the index of the newline ending the line at pos, or len(s).
func lineEnd(s string, pos int) int {
	if i := strings.IndexByte(s[pos:], '\n'); i >= 0 {
		return pos + i
	}
	return len(s)
}

// quoteOpenAfter reports whether a double quote is still open after s, given
// whether one was open before it. Inside quotes a backslash escapes.
func quoteOpenAfter(s string, open bool) bool {
	if !open && strings.IndexByte(s, '"') < 0 {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch {
		case open && s[i] == '\\':
			i++
		case s[i] == '"':
			open = !open
		}
	}
	return open
}

func (p *parser) parseLine(line string, start int) error {
	saved := p.line
	p.line = start
	defer func() { p.line = saved }()
	trimmed := strings.TrimSpace(line)
	switch {
	case trimmed == "" || trimmed[0] == '#':
		return nil
	case trimmed[0] == '*':
		return p.beginTable(trimmed[1:])
	case trimmed == "COMMIT":
		if p.cur == nil {
			return p.errorf("COMMIT outside a table")
		}
		p.cur = nil
		return nil
	case p.cur == nil:
		return p.errorf("%q outside a table; a table starts with a line like \"*nat\"", short(trimmed))
	case trimmed[0] == ':':
		return p.declareChain(trimmed[1:])
	default:
		return p.command(line)
	}
}

func (p *parser) beginTable(name string) error {
	if p.cur != nil {
		return p.errorf("table %q starts before table %q (line %d) has its COMMIT", name, p.cur.Name, p.cur.Line)
	}
	if name == "" || strings.ContainsAny(name, " \t") {
		return p.errorf("bad table header %q", "*"+name)
	}
	t := p.d.tables[name]
	if t == nil {
		t = &Table{Name: name, Line: p.line, chains: map[string]*Chain{}}
		p.d.tables[name] = t
		p.d.Tables = append(p.d.Tables, t)
	}
	p.cur = t
	return nil
}

// declareChain handles ":NAME POLICY [packets:bytes]".
func (p *parser) declareChain(decl string) error {
	f := strings.Fields(decl)
	if len(f) < 2 || len(f) > 3 {
		return p.errorf("chain declaration %q: want \":NAME POLICY [packets:bytes]\"", ":"+decl)
	}
	c := p.cur.chains[f[0]]
	if c != nil && c.Line != 0 {
		return p.errorf("chain %q declared twice (first at line %d)", f[0], c.Line)
	}
	if c == nil {
		c = p.addChain(f[0])
	}
	c.Line, c.Policy = p.line, f[1]
	if len(f) == 3 {
		cnt, err := parseCounters(f[2])
		if err != nil {
			return p.errorf("chain %q: %v", f[0], err)
		}
		c.Counters = cnt
	}
	return nil
}

func (p *parser) addChain(name string) *Chain {
	c := &Chain{Name: name, Table: p.cur.Name, Policy: "-"}
	p.cur.chains[name] = c
	p.cur.Chains = append(p.cur.Chains, c)
	return c
}

// chainFor returns the chain a rule is appended to; built-in chains may be
// used without a declaration (kube-proxy's restore input does that).
func (p *parser) chainFor(name string) (*Chain, error) {
	if c := p.cur.chains[name]; c != nil {
		return c, nil
	}
	for _, b := range savefmt.BuiltinChains(p.cur.Name) {
		if b == name {
			c := p.addChain(name)
			c.Policy = "ACCEPT"
			return c, nil
		}
	}
	return nil, p.errorf("chain %q is not declared in table %q; add a \":%s - [0:0]\" line", name, p.cur.Name, name)
}

// parseCounters parses "[packets:bytes]".
func parseCounters(s string) (Counters, error) {
	if len(s) < 5 || s[0] != '[' || s[len(s)-1] != ']' {
		return Counters{}, fmt.Errorf("bad counters %q, want [packets:bytes]", s)
	}
	pk, by, ok := strings.Cut(s[1:len(s)-1], ":")
	if !ok {
		return Counters{}, fmt.Errorf("bad counters %q, want [packets:bytes]", s)
	}
	return countersOf(pk, by)
}

func countersOf(pk, by string) (Counters, error) {
	np, err1 := strconv.ParseUint(pk, 10, 64)
	nb, err2 := strconv.ParseUint(by, 10, 64)
	if err1 != nil || err2 != nil {
		return Counters{}, fmt.Errorf("bad counters %q:%q, want two decimal numbers", pk, by)
	}
	return Counters{Packets: np, Bytes: nb, Set: true}, nil
}

func short(s string) string {
	if len(s) > 60 {
		return s[:57] + "..."
	}
	return s
}
