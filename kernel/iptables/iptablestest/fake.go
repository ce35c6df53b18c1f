// Package iptablestest holds an in-memory iptables for tests of code that
// programs iptables through kernel/iptables.Interface.
package iptablestest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/svctrace/kubectl-svctrace/kernel/iptables"
)

// Fake is a stateful in-memory iptables. Restore applies each table block
// atomically like iptables-restore --noflush: a failing line discards the
// whole block. Rules are kept as the argument lists they were given in, so
// Save prints them back in the caller's spelling, not iptables-save's.
type Fake struct {
	mu     sync.Mutex
	tables map[string]*table
	// FailRestore, when set, is called with each Restore input before it is
	// applied; a non-nil error fails that Restore with nothing applied.
	FailRestore func(input string) error
	// Restores records every Restore input, in order.
	Restores []string
	backend  string
}

type table struct {
	chains map[string]*chain
}

type chain struct {
	builtin bool
	rules   [][]string
}

var builtins = map[string][]string{
	iptables.TableFilter: {"INPUT", "FORWARD", "OUTPUT"},
	iptables.TableNAT:    {"PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"},
	iptables.TableMangle: {"PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"},
}

// targets the fake accepts without a chain of that name.
var targets = map[string]bool{
	"ACCEPT": true, "DROP": true, "RETURN": true, "REJECT": true, "DNAT": true, "SNAT": true,
	"MASQUERADE": true, "MARK": true, "LOG": true, "CONNMARK": true, "NOTRACK": true, "CT": true,
}

// New returns a Fake holding only the built-in chains of filter, nat and
// mangle.
func New() *Fake {
	f := &Fake{tables: map[string]*table{}, backend: iptables.BackendNFT}
	for name, bs := range builtins {
		t := &table{chains: map[string]*chain{}}
		for _, b := range bs {
			t.chains[b] = &chain{builtin: true}
		}
		f.tables[name] = t
	}
	return f
}

var _ iptables.Interface = (*Fake)(nil)

// Backend implements iptables.Interface.
func (f *Fake) Backend() string { return f.backend }

func (f *Fake) table(name string) (*table, error) {
	t, ok := f.tables[name]
	if !ok {
		return nil, fmt.Errorf("table %q: %w", name, iptables.ErrNotFound)
	}
	return t, nil
}

func (t *table) clone() *table {
	c := &table{chains: make(map[string]*chain, len(t.chains))}
	for n, ch := range t.chains {
		c.chains[n] = &chain{builtin: ch.builtin, rules: slices.Clone(ch.rules)}
	}
	return c
}

// Save implements iptables.Interface; counters print as [0:0].
func (f *Fake) Save(_ context.Context, name string, counters bool) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t, err := f.table(name)
	if err != nil {
		return nil, err
	}
	return []byte(t.save(name, counters)), nil
}

func (t *table) names() []string {
	var bs, us []string
	for n, c := range t.chains {
		if c.builtin {
			bs = append(bs, n)
		} else {
			us = append(us, n)
		}
	}
	slices.Sort(bs)
	slices.Sort(us)
	return append(bs, us...)
}

func (t *table) save(name string, counters bool) string {
	var b strings.Builder
	b.WriteString("*" + name + "\n")
	names := t.names()
	for _, n := range names {
		policy := "-"
		if t.chains[n].builtin {
			policy = "ACCEPT"
		}
		fmt.Fprintf(&b, ":%s %s [0:0]\n", n, policy)
	}
	for _, n := range names {
		for _, r := range t.chains[n].rules {
			if counters {
				b.WriteString("[0:0] ")
			}
			b.WriteString(Join(append([]string{"-A", n}, r...)))
			b.WriteByte('\n')
		}
	}
	b.WriteString("COMMIT\n")
	return b.String()
}

// Dump returns every table (filter, mangle, nat) as Save prints it, so a
// test can compare whole states.
func (f *Fake) Dump() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var b strings.Builder
	for _, n := range []string{iptables.TableFilter, iptables.TableMangle, iptables.TableNAT} {
		b.WriteString(f.tables[n].save(n, false))
	}
	return b.String()
}

// Join quotes arguments that need it, as iptables-save does.
func Join(args []string) string {
	out := make([]string, len(args))
	for i, a := range args {
		if a == "" || strings.ContainsAny(a, " \t\"") {
			a = `"` + strings.ReplaceAll(a, `"`, `\"`) + `"`
		}
		out[i] = a
	}
	return strings.Join(out, " ")
}
