// Package ipvs programs and reads the kernel's IPVS table and the
// addresses kube-proxy's IPVS mode binds to the dummy interface kube-ipvs0,
// behind Interface. Netlink is the kernel's (github.com/moby/ipvs for
// virtual and real servers, github.com/vishvananda/netlink for the
// addresses); ipvstest.Fake keeps the same state in memory for tests and
// can Dump it. The table's model (VirtualServer, RealServer, Table) is
// package dataplane/ipvs's.
package ipvs

import (
	"context"
	"fmt"
	"net/netip"

	model "github.com/svctrace/kubectl-svctrace/dataplane/ipvs"
)

// Interface reads and programs IPVS state and the dummy interface's addresses
// (kube-ipvs0, or another dummy interface an implementation is told to
// use). Virtual servers are identified by
// Key (address, port, protocol or firewall mark); real servers by address
// and port within their virtual server.
//
// Listing returns an empty table only when the kernel's table is empty; an
// implementation that cannot reach IPVS must fail instead.
type Interface interface {
	// ListVirtualServers returns every virtual server without real servers.
	ListVirtualServers(ctx context.Context) ([]model.VirtualServer, error)
	// ListRealServers returns the real servers of vs with their connection counts.
	ListRealServers(ctx context.Context, vs model.VirtualServer) ([]model.RealServer, error)
	// AddVirtualServer creates vs (its RealServers are ignored); it fails if vs exists.
	AddVirtualServer(ctx context.Context, vs model.VirtualServer) error
	// UpdateVirtualServer changes scheduler, flags and timeout of an existing vs.
	UpdateVirtualServer(ctx context.Context, vs model.VirtualServer) error
	// DeleteVirtualServer removes vs and its real servers; it fails if vs is absent.
	DeleteVirtualServer(ctx context.Context, vs model.VirtualServer) error
	// AddRealServer adds rs to vs; it fails if either is missing or rs exists.
	AddRealServer(ctx context.Context, vs model.VirtualServer, rs model.RealServer) error
	// UpdateRealServer changes the weight and forwarding method of rs.
	UpdateRealServer(ctx context.Context, vs model.VirtualServer, rs model.RealServer) error
	// DeleteRealServer removes rs from vs.
	DeleteRealServer(ctx context.Context, vs model.VirtualServer, rs model.RealServer) error

	// ListAddresses returns the addresses bound to kube-ipvs0, sorted;
	// none when the interface does not exist.
	ListAddresses(ctx context.Context) ([]netip.Addr, error)
	// AddAddress binds a (as /32 or /128) to kube-ipvs0, creating the
	// interface when it is missing; it fails if a is bound already.
	AddAddress(ctx context.Context, a netip.Addr) error
	// DeleteAddress unbinds a from kube-ipvs0; it fails if a is not bound.
	DeleteAddress(ctx context.Context, a netip.Addr) error
	// DeleteInterface removes the dummy interface with its addresses;
	// nothing when it does not exist.
	DeleteInterface(ctx context.Context) error
}

// ReadTable lists every virtual server with its real servers, sorted.
func ReadTable(ctx context.Context, k Interface) (model.Table, error) {
	vss, err := k.ListVirtualServers(ctx)
	if err != nil {
		return model.Table{}, err
	}
	t := model.Table{VirtualServers: vss}
	for i := range t.VirtualServers {
		rss, err := k.ListRealServers(ctx, t.VirtualServers[i])
		if err != nil {
			return model.Table{}, fmt.Errorf("list real servers of %s: %w", t.VirtualServers[i].Key(), err)
		}
		t.VirtualServers[i].RealServers = rss
	}
	t.Sort()
	return t, nil
}

// Apply programs t into k: creates missing virtual and real servers and
// updates changed ones. It removes nothing, so it can add a Service's
// state next to others'. It stops at the first error.
func Apply(ctx context.Context, k Interface, t model.Table) error {
	cur, err := ReadTable(ctx, k)
	if err != nil {
		return err
	}
	for _, vs := range t.VirtualServers {
		have, ok := cur.Find(vs)
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

func applyRealServers(ctx context.Context, k Interface, vs model.VirtualServer, have []model.RealServer) error {
	cur := map[string]model.RealServer{}
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
