package iptables

import (
	"context"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/svctrace/kubectl-svctrace/dataplane/iptables/expected"
)

// actual is what iptables-save shows of the owned chains.
type actual struct {
	// rules holds each kept chain's "-A" lines as iptables-save printed
	// them; same reports whether they equal wanted ones, normalizing them
	// only when they differ as printed (a kernel prints them normalized
	// already, so the common case costs one comparison).
	rules map[ref][]string
	order []ref
	// refs are rules in chains not owned that jump to owned chains, as
	// "-A CHAIN …" lines.
	refs map[string][]string
	keep func(ref) bool
}

// read saves each table and keeps the owned chains and those d wants
// (nil: owned only), such as kubelet's KUBE-FIREWALL, which replace mode
// writes but does not own. The whole table is read because iptables-save
// cannot select chains, but only kept lines are normalized.
func (p *Programmer) read(ctx context.Context, family corev1.IPFamily, tabs []string, d *Desired) (*actual, error) {
	a := &actual{rules: map[ref][]string{}, refs: map[string][]string{}, keep: func(r ref) bool {
		if p.layout.owns(r.chain) {
			return true
		}
		_, wanted := d.rulesOf(r)
		return wanted
	}}
	for _, t := range tabs {
		out, err := p.ipt.Save(ctx, t, false)
		if err != nil {
			return nil, fmt.Errorf("read back table %s: %w", t, err)
		}
		p.parse(a, family, t, string(out))
	}
	return a, nil
}

func (p *Programmer) parse(a *actual, family corev1.IPFamily, table, save string) {
	for _, line := range strings.Split(save, "\n") {
		switch {
		case strings.HasPrefix(line, ":"):
			name, _, _ := strings.Cut(line[1:], " ")
			if r := (ref{table, name}); a.keep(r) {
				a.order = append(a.order, r)
				a.rules[r] = []string{}
			}
		case strings.HasPrefix(line, "-A "):
			name, spec, _ := strings.Cut(line[3:], " ")
			if r := (ref{table, name}); a.keep(r) {
				a.rules[r] = append(a.rules[r], line)
			} else if p.jumpsToOwned(spec) {
				a.refs[table] = append(a.refs[table], line)
			}
		}
	}
}

// same compares printed rules with normalized ones.
func same(family corev1.IPFamily, r ref, have, want []string) bool {
	if len(have) != len(want) {
		return false
	}
	if slices.Equal(have, want) {
		return true
	}
	for i, line := range have {
		if line != want[i] && normalize(family, r.table, r.chain, strings.TrimPrefix(line, "-A "+r.chain+" ")) != want[i] {
			return false
		}
	}
	return true
}

func normalize(family corev1.IPFamily, table, chain, spec string) string {
	line, err := expected.Normalize(family, expected.Rule{Table: table, Chain: chain, Spec: spec})
	if err != nil {
		return "-A " + chain + " " + spec
	}
	return line
}

func (p *Programmer) jumpsToOwned(spec string) bool {
	f := strings.Fields(spec)
	for i := 0; i+1 < len(f); i++ {
		if (f[i] == "-j" || f[i] == "-g") && p.layout.owns(f[i+1]) {
			return true
		}
	}
	return false
}

// programmed reports whether the kernel held owned state before this
// sync: then anything missing was removed by someone and counts as a
// repair; on a clean node it is simply new.
func (a *actual) programmed(p *Programmer) bool {
	if p.last != nil {
		return true
	}
	return slices.ContainsFunc(a.order, func(r ref) bool { return p.layout.owns(r.chain) })
}

// repair plans the rewrite of every owned chain that differs from d and
// the deletion of owned chains d does not have.
func (p *Programmer) repair(pl *plan, d *Desired, a *actual, repairs map[string]int) error {
	for _, r := range d.order {
		have, ok := a.rules[r]
		if !ok {
			if a.programmed(p) {
				repairs[RepairChainMissing]++
			}
			pl.rewrite(r, d.rules[r])
			continue
		}
		want, err := d.normalized(r, p.last)
		if err != nil {
			return err
		}
		if !same(d.family, r, have, want) {
			repairs[RepairRulesDiffer]++
			pl.rewrite(r, d.rules[r])
		}
	}
	for _, r := range a.order {
		if _, ok := d.rules[r]; ok || slices.Contains(d.ensured, r) || !p.layout.owns(r.chain) {
			continue
		}
		repairs[RepairChainStale]++
		pl.remove(r)
	}
	return nil
}

// Cleanup removes every owned chain and every rule elsewhere that jumps to
// one, in one transaction per table, and nothing else. With dryRun it only
// returns the input it would write.
func (p *Programmer) Cleanup(ctx context.Context, dryRun bool) (Result, error) {
	tabs := []string{expected.TableFilter, expected.TableNAT, expected.TableMangle}
	res := Result{Full: true}
	a, err := p.read(ctx, corev1.IPv4Protocol, tabs, nil)
	if err != nil {
		return res, err
	}
	pl := newPlan()
	for _, t := range tabs {
		for _, line := range a.refs[t] {
			pl.lines[t] = append(pl.lines[t], "-D "+line[3:])
		}
	}
	for _, r := range a.order {
		pl.remove(r)
	}
	res.Input = string(pl.input(tabs))
	for _, t := range tabs {
		res.Deleted += len(pl.del[t])
		res.Lines += len(pl.lines[t])
	}
	if dryRun || pl.empty() {
		return res, nil
	}
	p.last = nil
	return res, p.ipt.Restore(ctx, []byte(res.Input))
}
