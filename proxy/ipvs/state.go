package ipvs

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	model "github.com/svctrace/kubectl-svctrace/dataplane/ipvs"
	"github.com/svctrace/kubectl-svctrace/kernel/ipset"
	kipvs "github.com/svctrace/kubectl-svctrace/kernel/ipvs"
)

// state is what the programmer owns of a node: its virtual servers, the
// addresses on its interface and its sets' entries. Desired states and
// states read back from the kernel share it, so one diff plans both a
// partial sync (from the last write) and a repair (from the kernel).
type state struct {
	table model.Table
	bound []netip.Addr
	// sets holds each owned set's entries; a set absent from the map does
	// not exist.
	sets map[string][]string
}

func (d *Desired) state() state {
	return state{table: d.Table, bound: d.Bound, sets: d.Sets}
}

// read reads what the programmer owns from the kernel, of its layout's
// IP family only: the other family's proxier owns the rest of the table
// and of the interface. A virtual server is owned when its address is
// bound to the layout's interface, when want or last holds it, or when it
// is a NodePort on a node address whose port an owned NodePort set lists:
// the sets remember NodePorts an earlier run programmed.
func (p *Programmer) read(ctx context.Context, want, last *Desired) (state, error) {
	var s state
	bound, err := p.ipvs.ListAddresses(ctx)
	if err != nil {
		return s, fmt.Errorf("read addresses of %s: %w", p.layout.Interface, err)
	}
	wanted := map[netip.Addr]bool{}
	for _, d := range []*Desired{want, last} {
		if d != nil {
			for _, a := range d.Bound {
				wanted[a] = true
			}
		}
	}
	s.bound = slices.DeleteFunc(slices.Clone(bound), func(a netip.Addr) bool {
		return a.Is6() != p.layout.IPv6 || p.excluded(a) && !wanted[a]
	})
	if s.sets, err = p.readSets(ctx); err != nil {
		return s, err
	}
	all, err := kipvs.ReadTable(ctx, p.ipvs)
	if err != nil {
		return s, fmt.Errorf("read the IPVS table: %w", err)
	}
	known := map[string]bool{}
	for _, d := range []*Desired{want, last} {
		if d != nil {
			for _, vs := range d.Table.VirtualServers {
				known[vs.Key()] = true
			}
		}
	}
	nodePorts := p.ownedNodePorts(s.sets)
	for _, vs := range all.VirtualServers {
		if vs.Is6() != p.layout.IPv6 {
			continue
		}
		onNode := slices.Contains(want.local, vs.Address)
		if known[vs.Key()] || !p.excluded(vs.Address) && (slices.Contains(s.bound, vs.Address) || onNode && nodePorts[nodePortKey(vs)]) {
			s.table.VirtualServers = append(s.table.VirtualServers, vs)
		}
	}
	return s, nil
}

// excluded reports whether a is in --ipvs-exclude-cidrs.
func (p *Programmer) excluded(a netip.Addr) bool {
	return slices.ContainsFunc(p.Exclude, func(c netip.Prefix) bool { return c.Contains(a.Unmap()) })
}

func (p *Programmer) readSets(ctx context.Context) (map[string][]string, error) {
	names, err := p.sets.ListSets(ctx)
	if err != nil {
		return nil, fmt.Errorf("list ip sets: %w", err)
	}
	out := map[string][]string{}
	for _, si := range setInfos {
		name := p.layout.SetName(si.name)
		if !slices.Contains(names, name) {
			continue
		}
		if out[name], err = p.sets.ListEntries(ctx, name); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// ownedNodePorts lists "proto:port" of the NodePorts in the owned sets,
// and "ip,sctp:port" of SCTP ones.
func (p *Programmer) ownedNodePorts(sets map[string][]string) map[string]bool {
	out := map[string]bool{}
	for kube, proto := range map[string]string{setNodePortTCP: "tcp", setNodePortUDP: "udp"} {
		for _, e := range sets[p.layout.SetName(kube)] {
			out[proto+":"+e] = true
		}
	}
	for _, e := range sets[p.layout.SetName(setNodePortSCTP)] {
		out[e] = true
	}
	return out
}

func nodePortKey(vs model.VirtualServer) string {
	proto := strings.ToLower(string(vs.Protocol))
	if vs.Protocol == model.SCTP {
		return fmt.Sprintf("%s,%s:%d", vs.Address, proto, vs.Port)
	}
	return fmt.Sprintf("%s:%d", proto, vs.Port)
}

// setDef is an owned set's definition in the layout: family inet6 for
// the IPv6 proxier's hash sets (a bitmap:port set has no family).
func (p *Programmer) setDef(kube string) ipset.Set {
	typ := infoOf(kube).typ
	return ipset.Set{Name: p.layout.SetName(kube), Type: typ, IPv6: p.layout.IPv6 && typ != ipset.BitmapPort}
}
