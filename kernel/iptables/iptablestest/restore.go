package iptablestest

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/svctrace/kubectl-svctrace/kernel/iptables"
)

// Restore implements iptables.Interface with --noflush semantics: ":CHAIN"
// creates or flushes a chain; "-A", "-I [N]", "-D", "-R N", "-F", "-N" and
// "-X" work as in iptables-restore; a jump to a chain that does not exist
// fails. Each "*table … COMMIT" block is applied atomically; blocks before a
// failing one stay applied, as with the real command.
func (f *Fake) Restore(_ context.Context, input []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.Restores = append(f.Restores, string(input))
	if f.FailRestore != nil {
		if err := f.FailRestore(string(input)); err != nil {
			return err
		}
	}
	var name string
	var cur *table
	for i, line := range strings.Split(string(input), "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "*"):
			t, err := f.table(line[1:])
			if err != nil {
				return fmt.Errorf("iptables-restore: line %d: %w", i+1, err)
			}
			name, cur = line[1:], t.clone()
		case cur == nil:
			return fmt.Errorf("iptables-restore: line %d: %q outside a table", i+1, line)
		case line == "COMMIT":
			f.tables[name], cur = cur, nil
		default:
			if err := cur.apply(line); err != nil {
				return fmt.Errorf("iptables-restore: line %d failed (%s): %w", i+1, line, err)
			}
		}
	}
	if cur != nil {
		return fmt.Errorf("iptables-restore: table %s not committed", name)
	}
	return nil
}

func (t *table) apply(line string) error {
	if strings.HasPrefix(line, ":") {
		f := strings.Fields(line[1:])
		if c, ok := t.chains[f[0]]; ok {
			c.rules = nil
		} else {
			t.chains[f[0]] = &chain{}
		}
		return nil
	}
	args, err := Split(line)
	if err != nil {
		return err
	}
	if len(args) < 2 {
		return fmt.Errorf("no chain")
	}
	return t.command(args[0], args[1], args[2:])
}

func (t *table) command(op, name string, rest []string) error {
	if op == "-N" {
		if _, ok := t.chains[name]; ok {
			return fmt.Errorf("chain %s already exists", name)
		}
		t.chains[name] = &chain{}
		return nil
	}
	c, ok := t.chains[name]
	if !ok {
		return fmt.Errorf("chain %s: %w", name, iptables.ErrNotFound)
	}
	switch op {
	case "-A":
		return t.insert(c, len(c.rules), rest)
	case "-I":
		pos := 0
		if len(rest) > 0 {
			if n, err := strconv.Atoi(rest[0]); err == nil {
				pos, rest = n-1, rest[1:]
			}
		}
		if pos < 0 || pos > len(c.rules) {
			return fmt.Errorf("index of insertion too big")
		}
		return t.insert(c, pos, rest)
	case "-D":
		i := c.find(rest)
		if i < 0 {
			return fmt.Errorf("bad rule (does a matching rule exist in that chain?)")
		}
		c.rules = slices.Delete(c.rules, i, i+1)
	case "-R":
		n, err := strconv.Atoi(first(rest))
		if err != nil || n < 1 || n > len(c.rules) {
			return fmt.Errorf("index of replacement too big")
		}
		if err := t.checkTarget(rest[1:]); err != nil {
			return err
		}
		c.rules[n-1] = rest[1:]
	case "-F":
		c.rules = nil
	case "-X":
		return t.deleteChain(name)
	default:
		return fmt.Errorf("unknown command %s", op)
	}
	return nil
}

func first(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

func (t *table) insert(c *chain, pos int, rule []string) error {
	if err := t.checkTarget(rule); err != nil {
		return err
	}
	c.rules = slices.Insert(c.rules, pos, slices.Clone(rule))
	return nil
}

// checkTarget fails like the kernel when -j/-g names neither a target
// extension nor a chain of the table.
func (t *table) checkTarget(rule []string) error {
	for i := 0; i+1 < len(rule); i++ {
		if rule[i] == "-j" || rule[i] == "-g" {
			tg := rule[i+1]
			if _, ok := t.chains[tg]; !ok && !targets[tg] {
				return fmt.Errorf("couldn't load target `%s': No such file or directory", tg)
			}
		}
	}
	return nil
}

func (c *chain) find(rule []string) int {
	return slices.IndexFunc(c.rules, func(r []string) bool { return slices.Equal(r, rule) })
}

func (t *table) deleteChain(name string) error {
	c := t.chains[name]
	if c.builtin {
		return fmt.Errorf("cannot delete built-in chain %s", name)
	}
	if len(c.rules) > 0 {
		return fmt.Errorf("chain %s is not empty", name)
	}
	for other, oc := range t.chains {
		for _, r := range oc.rules {
			if slices.Contains(r, name) {
				return fmt.Errorf("chain %s is referenced from %s", name, other)
			}
		}
	}
	delete(t.chains, name)
	return nil
}

// Split tokenises a rule line like iptables-restore: whitespace separates
// arguments, double quotes group them, a backslash escapes inside quotes.
func Split(line string) ([]string, error) {
	var out []string
	var cur strings.Builder
	inQuote, have := false, false
	for i := 0; i < len(line); i++ {
		ch := line[i]
		switch {
		case inQuote && ch == '\\' && i+1 < len(line):
			i++
			cur.WriteByte(line[i])
		case ch == '"':
			inQuote, have = !inQuote, true
		case !inQuote && (ch == ' ' || ch == '\t'):
			if have {
				out = append(out, cur.String())
				cur.Reset()
				have = false
			}
		default:
			cur.WriteByte(ch)
			have = true
		}
	}
	if inQuote {
		return nil, fmt.Errorf("unterminated quote in %q", line)
	}
	if have {
		out = append(out, cur.String())
	}
	return out, nil
}
