package ipvs

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
)

// Cleanup removes everything the programmer owns and nothing else: its
// virtual servers, the jumps to its chains and the chains, its ip sets
// and its dummy interface with the addresses on it. local are the node's
// addresses outside the dummy interfaces (NodePort virtual servers on them
// are owned when the owned sets list their ports).
func (p *Programmer) Cleanup(ctx context.Context, local []netip.Addr, dryRun bool) (Result, error) {
	res := p.result(true)
	owned, err := p.read(ctx, &Desired{local: local}, p.last)
	if err != nil {
		return res, err
	}
	var ops []op
	for _, vs := range owned.table.VirtualServers {
		ops = append(ops, p.vsOp(RepairVirtualServerStale, "-D", vs))
	}
	for _, j := range jumps {
		args := j.args(p.layout)
		ops = append(ops, op{kind: "jump", key: "jump", text: fmt.Sprintf("%s -t %s -D %s %s", res.iptables(), j.table, j.from, quoteArgs(args)),
			do: func(ctx context.Context) error { return p.ipt.DeleteRule(ctx, j.table, j.from, args...) }})
	}
	if res.Restore, err = p.deleteChainsInput(ctx); err != nil {
		return res, err
	}
	for name := range owned.sets {
		ops = append(ops, op{kind: "set", key: "set " + name, text: "ipset destroy " + name,
			do: func(ctx context.Context) error { return p.sets.DestroySet(ctx, name) }})
	}
	iface, err := p.interfaceOps(ctx, owned.bound)
	if err != nil {
		return res, err
	}
	ops = append(ops, iface...)
	for _, o := range ops {
		res.Ops = append(res.Ops, o.text)
	}
	if dryRun {
		return res, nil
	}
	p.last = nil
	// Virtual servers and jumps first, then the chains (a set referenced
	// by a rule cannot be destroyed), then the sets and the interface.
	sets := len(ops) - len(owned.sets) - len(iface)
	for i, o := range ops {
		if i == sets && res.Restore != "" {
			if err := p.ipt.Restore(ctx, []byte(res.Restore)); err != nil {
				return res, err
			}
		}
		if err := o.do(ctx); err != nil {
			return res, fmt.Errorf("%s: %w", o.text, err)
		}
	}
	p.draining = map[string]bool{}
	return res, nil
}

// interfaceOps removes the dummy interface, or only the family's
// addresses on it (own) while the other family's proxier still has
// addresses there: it removes the interface in its own cleanup.
func (p *Programmer) interfaceOps(ctx context.Context, own []netip.Addr) ([]op, error) {
	all, err := p.ipvs.ListAddresses(ctx)
	if err != nil {
		return nil, fmt.Errorf("read addresses of %s: %w", p.layout.Interface, err)
	}
	if len(all) > len(own) {
		var ops []op
		for _, a := range own {
			ops = append(ops, p.addrOp("address", "del", a))
		}
		return ops, nil
	}
	return []op{{kind: "interface", key: "interface", text: "ip link del " + p.layout.Interface,
		do: func(ctx context.Context) error { return p.ipvs.DeleteInterface(ctx) }}}, nil
}

// deleteChainsInput flushes and deletes the owned chains that exist, one
// transaction per table; empty when none exists.
func (p *Programmer) deleteChainsInput(ctx context.Context) (string, error) {
	var b strings.Builder
	for _, table := range []string{"nat", "filter"} {
		out, err := p.ipt.Save(ctx, table, false)
		if err != nil {
			return "", fmt.Errorf("read table %s: %w", table, err)
		}
		var present []string
		for _, c := range chains {
			name := p.layout.Name(c.chain)
			if c.table == table && strings.Contains(string(out), "\n:"+name+" ") {
				present = append(present, name)
			}
		}
		if len(present) == 0 {
			continue
		}
		fmt.Fprintf(&b, "*%s\n", table)
		for _, c := range present {
			fmt.Fprintf(&b, ":%s - [0:0]\n", c)
		}
		for _, c := range present {
			fmt.Fprintf(&b, "-X %s\n", c)
		}
		b.WriteString("COMMIT\n")
	}
	return b.String(), nil
}

func quoteArgs(args []string) string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = a
		if strings.ContainsAny(a, " \"") {
			out[i] = fmt.Sprintf("%q", a)
		}
	}
	return strings.Join(out, " ")
}
