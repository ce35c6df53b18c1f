// Package ipvstest holds Fake, an in-memory ipvs.Interface for tests. It
// is never linked into the plugin.
package ipvstest

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync"

	model "github.com/svctrace/kubectl-svctrace/dataplane/ipvs"
	"github.com/svctrace/kubectl-svctrace/kernel/ipvs"
)

// Fake is an in-memory ipvs.Interface. It enforces the kernel's rules that
// matter to callers: no duplicate virtual or real servers, no real server
// without its virtual server, no address bound twice. Connection counts are
// whatever the caller stored.
type Fake struct {
	mu    sync.Mutex
	table model.Table
	addrs []netip.Addr
	// Dummy names the interface in messages and Dump; empty means kube-ipvs0.
	Dummy string
	// up says whether the interface exists: AddAddress creates it.
	up bool
}

func (f *Fake) dummy() string {
	if f.Dummy != "" {
		return f.Dummy
	}
	return model.DummyInterface
}

var _ ipvs.Interface = (*Fake)(nil)

// NewFake returns a Fake holding t and no bound addresses.
func NewFake(t model.Table) *Fake {
	f := &Fake{}
	for _, vs := range t.VirtualServers {
		vs.RealServers = append([]model.RealServer(nil), vs.RealServers...)
		f.table.VirtualServers = append(f.table.VirtualServers, vs)
	}
	f.table.Sort()
	return f
}

func (f *Fake) find(vs model.VirtualServer) int {
	for i, v := range f.table.VirtualServers {
		if v.Key() == vs.Key() {
			return i
		}
	}
	return -1
}

func (f *Fake) mustFind(vs model.VirtualServer) (int, error) {
	i := f.find(vs)
	if i < 0 {
		return -1, fmt.Errorf("virtual server %s does not exist", vs.Key())
	}
	return i, nil
}

// ListVirtualServers implements ipvs.Interface.
func (f *Fake) ListVirtualServers(ctx context.Context) ([]model.VirtualServer, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]model.VirtualServer, 0, len(f.table.VirtualServers))
	for _, vs := range f.table.VirtualServers {
		vs.RealServers = nil
		out = append(out, vs)
	}
	return out, ctx.Err()
}

// ListRealServers implements ipvs.Interface.
func (f *Fake) ListRealServers(ctx context.Context, vs model.VirtualServer) ([]model.RealServer, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	i, err := f.mustFind(vs)
	if err != nil {
		return nil, err
	}
	return append([]model.RealServer(nil), f.table.VirtualServers[i].RealServers...), ctx.Err()
}

// AddVirtualServer implements ipvs.Interface.
func (f *Fake) AddVirtualServer(_ context.Context, vs model.VirtualServer) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.find(vs) >= 0 {
		return fmt.Errorf("virtual server %s already exists", vs.Key())
	}
	vs.RealServers = nil
	f.table.VirtualServers = append(f.table.VirtualServers, vs)
	f.table.Sort()
	return nil
}

// UpdateVirtualServer implements ipvs.Interface.
func (f *Fake) UpdateVirtualServer(_ context.Context, vs model.VirtualServer) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	i, err := f.mustFind(vs)
	if err != nil {
		return err
	}
	vs.RealServers = f.table.VirtualServers[i].RealServers
	f.table.VirtualServers[i] = vs
	return nil
}

// DeleteVirtualServer implements ipvs.Interface.
func (f *Fake) DeleteVirtualServer(_ context.Context, vs model.VirtualServer) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	i, err := f.mustFind(vs)
	if err != nil {
		return err
	}
	f.table.VirtualServers = append(f.table.VirtualServers[:i], f.table.VirtualServers[i+1:]...)
	return nil
}

// AddRealServer implements ipvs.Interface.
func (f *Fake) AddRealServer(_ context.Context, vs model.VirtualServer, rs model.RealServer) error {
	return f.editRealServer(vs, rs, func(list []model.RealServer, j int) ([]model.RealServer, error) {
		if j >= 0 {
			return nil, fmt.Errorf("real server %s of %s already exists", rs.Key(), vs.Key())
		}
		return append(list, rs), nil
	})
}

// UpdateRealServer implements ipvs.Interface.
func (f *Fake) UpdateRealServer(_ context.Context, vs model.VirtualServer, rs model.RealServer) error {
	return f.editRealServer(vs, rs, func(list []model.RealServer, j int) ([]model.RealServer, error) {
		if j < 0 {
			return nil, fmt.Errorf("real server %s of %s does not exist", rs.Key(), vs.Key())
		}
		list[j].Weight, list[j].Forward = rs.Weight, rs.Forward
		return list, nil
	})
}

// DeleteRealServer implements ipvs.Interface.
func (f *Fake) DeleteRealServer(_ context.Context, vs model.VirtualServer, rs model.RealServer) error {
	return f.editRealServer(vs, rs, func(list []model.RealServer, j int) ([]model.RealServer, error) {
		if j < 0 {
			return nil, fmt.Errorf("real server %s of %s does not exist", rs.Key(), vs.Key())
		}
		return append(list[:j], list[j+1:]...), nil
	})
}

func (f *Fake) editRealServer(vs model.VirtualServer, rs model.RealServer, edit func([]model.RealServer, int) ([]model.RealServer, error)) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	i, err := f.mustFind(vs)
	if err != nil {
		return err
	}
	list := f.table.VirtualServers[i].RealServers
	j := -1
	for k, r := range list {
		if r.Key() == rs.Key() {
			j = k
		}
	}
	list, err = edit(list, j)
	if err != nil {
		return err
	}
	f.table.VirtualServers[i].RealServers = list
	f.table.Sort()
	return nil
}

// ListAddresses implements ipvs.Interface.
func (f *Fake) ListAddresses(ctx context.Context) ([]netip.Addr, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.addrs), ctx.Err()
}

// AddAddress implements ipvs.Interface.
func (f *Fake) AddAddress(_ context.Context, a netip.Addr) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	i, found := slices.BinarySearchFunc(f.addrs, a, netip.Addr.Compare)
	if found {
		return fmt.Errorf("bind %s to %s: address already bound", a, f.dummy())
	}
	f.addrs = slices.Insert(f.addrs, i, a)
	f.up = true
	return nil
}

// DeleteAddress implements ipvs.Interface.
func (f *Fake) DeleteAddress(_ context.Context, a netip.Addr) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	i, found := slices.BinarySearchFunc(f.addrs, a, netip.Addr.Compare)
	if !found {
		return fmt.Errorf("unbind %s from %s: address not bound", a, f.dummy())
	}
	f.addrs = slices.Delete(f.addrs, i, i+1)
	return nil
}

// DeleteInterface implements ipvs.Interface.
func (f *Fake) DeleteInterface(ctx context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.addrs, f.up = nil, false
	return ctx.Err()
}

// HasInterface reports whether the dummy interface exists.
func (f *Fake) HasInterface() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.up
}

// Dump lists the Fake's state: its table as ipvsadm-save -n prints it,
// then one "ip addr add" line per address bound to kube-ipvs0.
func (f *Fake) Dump() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var b strings.Builder
	b.WriteString(model.FormatSave(f.table))
	for _, a := range f.addrs {
		fmt.Fprintf(&b, "ip addr add %s dev %s\n", netip.PrefixFrom(a, a.BitLen()), f.dummy())
	}
	return b.String()
}
