package ipvs

import (
	"context"
	"fmt"
	"sync"
)

// Fake is an in-memory Kernel. It enforces the kernel's rules that matter to
// callers: no duplicate virtual or real servers, no real server without its
// virtual server. Connection counts are whatever the caller stored.
type Fake struct {
	mu    sync.Mutex
	table Table
}

var _ Kernel = (*Fake)(nil)

// NewFake returns a Fake holding t.
func NewFake(t Table) *Fake {
	f := &Fake{}
	for _, vs := range t.VirtualServers {
		vs.RealServers = append([]RealServer(nil), vs.RealServers...)
		f.table.VirtualServers = append(f.table.VirtualServers, vs)
	}
	f.table.Sort()
	return f
}

func (f *Fake) find(vs VirtualServer) int {
	for i, v := range f.table.VirtualServers {
		if v.Key() == vs.Key() {
			return i
		}
	}
	return -1
}

func (f *Fake) mustFind(vs VirtualServer) (int, error) {
	i := f.find(vs)
	if i < 0 {
		return -1, fmt.Errorf("virtual server %s does not exist", vs.Key())
	}
	return i, nil
}

// ListVirtualServers implements Kernel.
func (f *Fake) ListVirtualServers(ctx context.Context) ([]VirtualServer, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]VirtualServer, 0, len(f.table.VirtualServers))
	for _, vs := range f.table.VirtualServers {
		vs.RealServers = nil
		out = append(out, vs)
	}
	return out, ctx.Err()
}

// ListRealServers implements Kernel.
func (f *Fake) ListRealServers(ctx context.Context, vs VirtualServer) ([]RealServer, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	i, err := f.mustFind(vs)
	if err != nil {
		return nil, err
	}
	return append([]RealServer(nil), f.table.VirtualServers[i].RealServers...), ctx.Err()
}

// AddVirtualServer implements Kernel.
func (f *Fake) AddVirtualServer(_ context.Context, vs VirtualServer) error {
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

// UpdateVirtualServer implements Kernel.
func (f *Fake) UpdateVirtualServer(_ context.Context, vs VirtualServer) error {
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

// DeleteVirtualServer implements Kernel.
func (f *Fake) DeleteVirtualServer(_ context.Context, vs VirtualServer) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	i, err := f.mustFind(vs)
	if err != nil {
		return err
	}
	f.table.VirtualServers = append(f.table.VirtualServers[:i], f.table.VirtualServers[i+1:]...)
	return nil
}

// AddRealServer implements Kernel.
func (f *Fake) AddRealServer(_ context.Context, vs VirtualServer, rs RealServer) error {
	return f.editRealServer(vs, rs, func(list []RealServer, j int) ([]RealServer, error) {
		if j >= 0 {
			return nil, fmt.Errorf("real server %s of %s already exists", rs.Key(), vs.Key())
		}
		return append(list, rs), nil
	})
}

// UpdateRealServer implements Kernel.
func (f *Fake) UpdateRealServer(_ context.Context, vs VirtualServer, rs RealServer) error {
	return f.editRealServer(vs, rs, func(list []RealServer, j int) ([]RealServer, error) {
		if j < 0 {
			return nil, fmt.Errorf("real server %s of %s does not exist", rs.Key(), vs.Key())
		}
		list[j].Weight, list[j].Forward = rs.Weight, rs.Forward
		return list, nil
	})
}

// DeleteRealServer implements Kernel.
func (f *Fake) DeleteRealServer(_ context.Context, vs VirtualServer, rs RealServer) error {
	return f.editRealServer(vs, rs, func(list []RealServer, j int) ([]RealServer, error) {
		if j < 0 {
			return nil, fmt.Errorf("real server %s of %s does not exist", rs.Key(), vs.Key())
		}
		return append(list[:j], list[j+1:]...), nil
	})
}

func (f *Fake) editRealServer(vs VirtualServer, rs RealServer, edit func([]RealServer, int) ([]RealServer, error)) error {
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
