package ipvs

import (
	"context"
	"fmt"
)

// Kernel reads and programs IPVS state. Virtual servers are identified by
// Key (address, port, protocol or firewall mark); real servers by address
// and port within their virtual server.
//
// Listing returns an empty table only when the kernel's table is empty; an
// implementation that cannot reach IPVS must fail instead.
type Kernel interface {
	// ListVirtualServers returns every virtual server without real servers.
	ListVirtualServers(ctx context.Context) ([]VirtualServer, error)
	// ListRealServers returns the real servers of vs with their connection counts.
	ListRealServers(ctx context.Context, vs VirtualServer) ([]RealServer, error)
	// AddVirtualServer creates vs (its RealServers are ignored); it fails if vs exists.
	AddVirtualServer(ctx context.Context, vs VirtualServer) error
	// UpdateVirtualServer changes scheduler, flags and timeout of an existing vs.
	UpdateVirtualServer(ctx context.Context, vs VirtualServer) error
	// DeleteVirtualServer removes vs and its real servers; it fails if vs is absent.
	DeleteVirtualServer(ctx context.Context, vs VirtualServer) error
	// AddRealServer adds rs to vs; it fails if either is missing or rs exists.
	AddRealServer(ctx context.Context, vs VirtualServer, rs RealServer) error
	// UpdateRealServer changes the weight and forwarding method of rs.
	UpdateRealServer(ctx context.Context, vs VirtualServer, rs RealServer) error
	// DeleteRealServer removes rs from vs.
	DeleteRealServer(ctx context.Context, vs VirtualServer, rs RealServer) error
}

// ReadTable lists every virtual server with its real servers, sorted.
func ReadTable(ctx context.Context, k Kernel) (Table, error) {
	vss, err := k.ListVirtualServers(ctx)
	if err != nil {
		return Table{}, err
	}
	t := Table{VirtualServers: vss}
	for i := range t.VirtualServers {
		rss, err := k.ListRealServers(ctx, t.VirtualServers[i])
		if err != nil {
			return Table{}, fmt.Errorf("list real servers of %s: %w", t.VirtualServers[i].Key(), err)
		}
		t.VirtualServers[i].RealServers = rss
	}
	t.Sort()
	return t, nil
}

// Apply programs t into k: creates missing virtual and real servers and
// updates changed ones. It removes nothing, so it can add a Service's
// state next to others'. It stops at the first error.
func Apply(ctx context.Context, k Kernel, t Table) error {
	cur, err := ReadTable(ctx, k)
	if err != nil {
		return err
	}
	for _, vs := range t.VirtualServers {
		have, ok := findVS(cur, vs)
		switch {
		case !ok:
			err = k.AddVirtualServer(ctx, vs)
		case have.Scheduler != vs.Scheduler || have.Flags != vs.Flags || have.Timeout != vs.Timeout:
			err = k.UpdateVirtualServer(ctx, vs)
		}
		if err != nil {
			return err
		}
		if err := applyRealServers(ctx, k, vs, have.RealServers); err != nil {
			return err
		}
	}
	return nil
}

func applyRealServers(ctx context.Context, k Kernel, vs VirtualServer, have []RealServer) error {
	cur := map[string]RealServer{}
	for _, rs := range have {
		cur[rs.Key()] = rs
	}
	for _, rs := range vs.RealServers {
		var err error
		h, ok := cur[rs.Key()]
		switch {
		case !ok:
			err = k.AddRealServer(ctx, vs, rs)
		case h.Weight != rs.Weight || h.Forward != rs.Forward:
			err = k.UpdateRealServer(ctx, vs, rs)
		}
		if err != nil {
			return err
		}
	}
	return nil
}
