//go:build linux

package ipvs

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"

	"github.com/vishvananda/netlink"

	model "github.com/svctrace/kubectl-svctrace/dataplane/ipvs"
)

// ListAddresses implements Interface.
func (n *Netlink) ListAddresses(ctx context.Context) ([]netip.Addr, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	link, err := netlink.LinkByName(model.DummyInterface)
	if errors.As(err, new(netlink.LinkNotFoundError)) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("find %s: %w", model.DummyInterface, err)
	}
	addrs, err := netlink.AddrList(link, netlink.FAMILY_ALL)
	if err != nil {
		return nil, fmt.Errorf("list addresses of %s: %w", model.DummyInterface, err)
	}
	var out []netip.Addr
	for _, a := range addrs {
		if ip, ok := netip.AddrFromSlice(a.IP); ok {
			out = append(out, ip.Unmap())
		}
	}
	slices.SortFunc(out, netip.Addr.Compare)
	return out, nil
}

// AddAddress implements Interface. kube-proxy leaves kube-ipvs0 down: the
// kernel takes packets to a local address whatever the link's state.
func (n *Netlink) AddAddress(ctx context.Context, a netip.Addr) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	link, err := netlink.LinkByName(model.DummyInterface)
	if errors.As(err, new(netlink.LinkNotFoundError)) {
		dummy := &netlink.Dummy{LinkAttrs: netlink.LinkAttrs{Name: model.DummyInterface}}
		if err := netlink.LinkAdd(dummy); err != nil {
			return fmt.Errorf("create %s (needs the dummy module): %w", model.DummyInterface, err)
		}
		link, err = netlink.LinkByName(model.DummyInterface)
	}
	if err != nil {
		return fmt.Errorf("find %s: %w", model.DummyInterface, err)
	}
	if err := netlink.AddrAdd(link, hostAddr(a)); err != nil {
		return fmt.Errorf("bind %s to %s: %w", a, model.DummyInterface, err)
	}
	return nil
}

// DeleteAddress implements Interface.
func (n *Netlink) DeleteAddress(ctx context.Context, a netip.Addr) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	link, err := netlink.LinkByName(model.DummyInterface)
	if err != nil {
		return fmt.Errorf("find %s: %w", model.DummyInterface, err)
	}
	if err := netlink.AddrDel(link, hostAddr(a)); err != nil {
		return fmt.Errorf("unbind %s from %s: %w", a, model.DummyInterface, err)
	}
	return nil
}

// hostAddr is a as a host route: /32 or /128.
func hostAddr(a netip.Addr) *netlink.Addr {
	p := netip.PrefixFrom(a, a.BitLen())
	addr, _ := netlink.ParseAddr(p.String())
	return addr
}
