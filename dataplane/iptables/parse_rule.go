package iptables

import (
	"strings"
)

// command parses a line starting with a command such as "-A CHAIN ...",
// possibly after "[packets:bytes]" counters.
func (p *parser) command(line string) error {
	args, err := splitArgs(line, p.args[:0])
	p.args = args
	if err != nil {
		return p.errorf("%v", err)
	}
	var cnt Counters
	if strings.HasPrefix(args[0], "[") {
		if cnt, err = parseCounters(args[0]); err != nil {
			return p.errorf("%v", err)
		}
		args = args[1:]
		if len(args) == 0 {
			return p.errorf("counters %q without a rule", line)
		}
	}
	switch args[0] {
	case "-A", "--append":
		if len(args) < 2 {
			return p.errorf("%s needs a chain name", args[0])
		}
		c, err := p.chainFor(args[1])
		if err != nil {
			return err
		}
		r := p.newRule()
		*r = Rule{Table: c.Table, Chain: c.Name, Line: p.line, Text: line, Counters: cnt}
		if err := p.parseRule(r, args[2:]); err != nil {
			return err
		}
		c.Rules = append(c.Rules, r)
		p.indexRule(r)
		return nil
	case "-N", "--new-chain":
		if len(args) != 2 {
			return p.errorf("%s needs exactly one chain name", args[0])
		}
		if p.cur.chains[args[1]] == nil {
			p.addChain(args[1]).Line = p.line
		}
		return nil
	case "-X", "--delete-chain":
		p.cur.Deleted = append(p.cur.Deleted, args[1:]...)
		return nil
	case "-F", "--flush":
		return nil
	}
	return p.errorf("unsupported command %q; only -A, -N, -X and -F can appear in a dump", args[0])
}

// indexRule records the rule under the service-port name its comment names.
func (p *parser) indexRule(r *Rule) {
	for _, m := range r.Matches {
		c, ok := m.(*CommentMatch)
		if !ok {
			continue
		}
		if name := servicePortInComment(c.Text); name != "" {
			p.d.byService[name] = append(p.d.byService[name], r)
		}
	}
}

// servicePortInComment finds the "ns/name[:port]" word in a kube-proxy
// comment, without the old trailing colon of unnamed ports.
func servicePortInComment(text string) string {
	for text != "" {
		var word string
		word, text, _ = strings.Cut(text, " ")
		if strings.IndexByte(word, '/') > 0 && !strings.ContainsAny(word, "[]") && strings.Count(word, ":") <= 1 {
			return trimPortColon(word)
		}
	}
	return ""
}

func trimPortColon(name string) string { return strings.TrimSuffix(name, ":") }

// ruleParser turns the arguments after "-A CHAIN" into a Rule.
type ruleParser struct {
	p      *parser
	r      *Rule
	mods   []*modInst
	target *targetInst
	args   []string
	i      int
}

// modInst collects the options of one "-m NAME" before they are typed.
type modInst struct {
	name     string
	spec     map[string]int
	opts     []Option
	implicit bool
}

type targetInst struct {
	spec map[string]int
	opts []Option
}

// newRule hands out rules from chunks, which a dump of several hundred
// thousand rules allocates far faster than one by one.
func (p *parser) newRule() *Rule {
	if len(p.ruleSlab) == 0 {
		p.ruleSlab = make([]Rule, 1024)
	}
	r := &p.ruleSlab[0]
	p.ruleSlab = p.ruleSlab[1:]
	return r
}

// newArgs returns an n-element slice for option arguments, from chunks.
func (p *parser) newArgs(n int) []string {
	if n > 64 {
		return make([]string, n)
	}
	if len(p.argSlab) < n {
		p.argSlab = make([]string, 4096)
	}
	a := p.argSlab[:n:n]
	p.argSlab = p.argSlab[n:]
	return a
}

// newMod returns a cleared module collector; collectors are reused from
// rule to rule because nothing typed keeps them.
func (rp *ruleParser) newMod(name string, spec map[string]int, implicit bool) *modInst {
	p := rp.p
	if p.modUsed == len(p.modPool) {
		p.modPool = append(p.modPool, &modInst{})
	}
	m := p.modPool[p.modUsed]
	p.modUsed++
	*m = modInst{name: name, spec: spec, implicit: implicit, opts: m.opts[:0]}
	rp.mods = append(rp.mods, m)
	return m
}

func (p *parser) parseRule(r *Rule, args []string) error {
	p.modUsed = 0
	rp := ruleParser{p: p, r: r, args: args, mods: p.modList[:0]}
	defer func() { p.modList = rp.mods[:0] }()
	if err := rp.run(); err != nil {
		return err
	}
	return rp.finish()
}

func (rp *ruleParser) run() error {
	for rp.i < len(rp.args) {
		negated := false
		if rp.args[rp.i] == "!" {
			negated = true
			rp.i++
			if rp.i == len(rp.args) {
				return rp.p.errorf("\"!\" at the end of the rule negates nothing")
			}
		}
		name := rp.args[rp.i]
		rp.i++
		if !strings.HasPrefix(name, "-") || name == "-" {
			return rp.p.errorf("unexpected argument %q; expected an option starting with \"-\"", name)
		}
		if err := rp.option(name, negated); err != nil {
			return err
		}
	}
	return nil
}

// value returns the next argument of option name, accepting the old
// "--opt ! value" negation spelling.
func (rp *ruleParser) value(name string, negated *bool) (string, error) {
	if rp.i < len(rp.args) && rp.args[rp.i] == "!" && negated != nil {
		*negated = true
		rp.i++
	}
	if rp.i >= len(rp.args) {
		return "", rp.p.errorf("option %s needs an argument", name)
	}
	v := rp.args[rp.i]
	rp.i++
	return v, nil
}

func (rp *ruleParser) option(name string, negated bool) error {
	switch name {
	case "-s", "--source", "--src", "-d", "--destination", "--dst":
		return rp.address(name, negated)
	case "-p", "--protocol":
		v, err := rp.value(name, &negated)
		rp.r.Protocol = Cond{Value: normalizeProto(v), Negated: negated}
		return err
	case "-i", "--in-interface", "-o", "--out-interface":
		v, err := rp.value(name, &negated)
		if name == "-i" || name == "--in-interface" {
			rp.r.InInterface = Cond{Value: v, Negated: negated}
		} else {
			rp.r.OutInterface = Cond{Value: v, Negated: negated}
		}
		return err
	case "-m", "--match":
		v, err := rp.value(name, nil)
		if err != nil {
			return err
		}
		spec, _ := matchSpecs[v]
		rp.newMod(v, spec, false)
		return nil
	case "-j", "--jump", "-g", "--goto":
		return rp.jump(name)
	case "-c", "--set-counters":
		return rp.counters(name)
	}
	return rp.moduleOption(name, negated)
}

func (rp *ruleParser) address(name string, negated bool) error {
	v, err := rp.value(name, &negated)
	if err != nil {
		return err
	}
	pfx, err := parseAddr(v)
	if err != nil {
		return rp.p.errorf("%s %q: %v", name, v, err)
	}
	c := AddrCond{Prefix: pfx, Negated: negated}
	if name[1] == 's' || name == "--source" || name == "--src" {
		rp.r.Source = c
	} else {
		rp.r.Destination = c
	}
	return nil
}

func (rp *ruleParser) jump(name string) error {
	if rp.target != nil {
		return rp.p.errorf("second target %s %q; a rule has one -j or -g", name, rp.r.Target.Name)
	}
	v, err := rp.value(name, nil)
	if err != nil {
		return err
	}
	rp.r.Target.Name = v
	rp.r.Target.Goto = name == "-g" || name == "--goto"
	rp.target = &targetInst{spec: targetSpecs[v]}
	return nil
}

func (rp *ruleParser) counters(name string) error {
	if rp.i+2 > len(rp.args) {
		return rp.p.errorf("%s needs packets and bytes", name)
	}
	c, err := countersOf(rp.args[rp.i], rp.args[rp.i+1])
	if err != nil {
		return rp.p.errorf("%s: %v", name, err)
	}
	rp.r.Counters = c
	rp.i += 2
	return nil
}

// moduleOption gives an option to its owner: a loaded match, the target, the
// protocol's implicit match, or else keeps it verbatim as unknown.
func (rp *ruleParser) moduleOption(name string, negated bool) error {
	for k := len(rp.mods) - 1; k >= 0; k-- {
		if n, ok := rp.mods[k].spec[name]; ok {
			return rp.take(&rp.mods[k].opts, name, n, negated, false)
		}
	}
	if rp.target != nil {
		if n, ok := rp.target.spec[name]; ok {
			return rp.take(&rp.target.opts, name, n, negated, false)
		}
	}
	if proto := rp.r.Protocol.Value; portSpec[name] > 0 && (proto == "tcp" || proto == "udp" || proto == "sctp") {
		m := rp.newMod(proto, matchSpecs[proto], true)
		return rp.take(&m.opts, name, 1, negated, false)
	}
	if rp.target != nil {
		return rp.take(&rp.target.opts, name, -1, negated, true)
	}
	for k := len(rp.mods) - 1; k >= 0; k-- {
		if rp.mods[k].spec == nil {
			return rp.take(&rp.mods[k].opts, name, -1, negated, true)
		}
	}
	m := rp.newMod("", nil, false)
	return rp.take(&m.opts, name, -1, negated, true)
}

// take appends option name with n arguments to opts; n < 0 takes every
// argument up to the next option.
func (rp *ruleParser) take(opts *[]Option, name string, n int, negated, unknown bool) error {
	o := Option{Name: name, Negated: negated, Unknown: unknown}
	if n > 0 && rp.i < len(rp.args) && rp.args[rp.i] == "!" {
		o.Negated = true
		rp.i++
	}
	switch {
	case n < 0:
		for rp.i < len(rp.args) && !isOptionStart(rp.args[rp.i]) {
			o.Args = append(o.Args, rp.args[rp.i])
			rp.i++
		}
	case rp.i+n > len(rp.args):
		return rp.p.errorf("option %s needs %d argument(s)", name, n)
	case n > 0:
		o.Args = rp.p.newArgs(n)
		copy(o.Args, rp.args[rp.i:rp.i+n])
		rp.i += n
	}
	*opts = append(*opts, o)
	return nil
}

func isOptionStart(s string) bool {
	return s == "!" || len(s) > 1 && s[0] == '-' && (s[1] < '0' || s[1] > '9')
}

func normalizeProto(p string) string {
	switch p = strings.ToLower(p); p {
	case "6":
		return "tcp"
	case "17":
		return "udp"
	case "132":
		return "sctp"
	case "1":
		return "icmp"
	}
	return p
}
