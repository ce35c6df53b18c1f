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

// dummy is the interface addresses are bound to: Dummy, or kube-ipvs0.
func (n *Netlink) dummy() string {
	if n.Dummy != "" {
		return n.Dummy
	}
	return model.DummyInterface
}

// ListAddresses implements Interface.
func (n *Netlink) ListAddresses(ctx context.Context) ([]netip.Addr, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	link, err := netlink.LinkByName(n.dummy())
	if errors.As(err, new(netlink.LinkNotFoundError)) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("find %s: %w", n.dummy(), err)
	}
	addrs, err := netlink.AddrList(link, netlink.FAMILY_ALL)
	if err != nil {
		return nil, fmt.Errorf("list addresses of %s: %w", n.dummy(), err)
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
	link, err := netlink.LinkByName(n.dummy())
	if errors.As(err, new(netlink.LinkNotFoundError)) {
		dummy := &netlink.Dummy{LinkAttrs: netlink.LinkAttrs{Name: n.dummy()}}
		if err := netlink.LinkAdd(dummy); err != nil {
			return fmt.Errorf("create %s (needs the dummy module): %w", n.dummy(), err)
		}
		link, err = netlink.LinkByName(n.dummy())
	}
	if err != nil {
		return fmt.Errorf("find %s: %w", n.dummy(), err)
	}
	if err := netlink.AddrAdd(link, hostAddr(a)); err != nil {
		return fmt.Errorf("bind %s to %s: %w", a, n.dummy(), err)
	}
	return nil
}

// DeleteAddress implements Interface.
func (n *Netlink) DeleteAddress(ctx context.Context, a netip.Addr) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	link, err := netlink.LinkByName(n.dummy())
	if err != nil {
		return fmt.Errorf("find %s: %w", n.dummy(), err)
	}
	if err := netlink.AddrDel(link, hostAddr(a)); err != nil {
		return fmt.Errorf("unbind %s from %s: %w", a, n.dummy(), err)
	}
	return nil
}

// DeleteInterface implements Interface.
func (n *Netlink) DeleteInterface(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	link, err := netlink.LinkByName(n.dummy())
	if errors.As(err, new(netlink.LinkNotFoundError)) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("find %s: %w", n.dummy(), err)
	}
	if link.Type() != "dummy" {
		return fmt.Errorf("delete %s: it is a %s interface, not the dummy one IPVS mode creates; left in place", n.dummy(), link.Type())
	}
	if err := netlink.LinkDel(link); err != nil {
		return fmt.Errorf("delete %s: %w", n.dummy(), err)
	}
	return nil
}

// LocalAddresses returns the node's addresses as kube-proxy's IPVS mode
// counts them for NodePorts and for deciding what to bind: every address
// of every interface but the named (dummy) ones, without loopback and
// IPv6 link-local addresses, sorted.
func LocalAddresses(ctx context.Context, except ...string) ([]netip.Addr, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	links, err := netlink.LinkList()
	if err != nil {
		return nil, fmt.Errorf("list interfaces: %w", err)
	}
	var out []netip.Addr
	for _, l := range links {
		if slices.Contains(except, l.Attrs().Name) {
			continue
		}
		addrs, err := netlink.AddrList(l, netlink.FAMILY_ALL)
		if err != nil {
			return nil, fmt.Errorf("list addresses of %s: %w", l.Attrs().Name, err)
		}
		for _, a := range addrs {
			ip, ok := netip.AddrFromSlice(a.IP)
			ip = ip.Unmap()
			if !ok || ip.IsLoopback() || (ip.Is6() && ip.IsLinkLocalUnicast()) {
				continue
			}
			out = append(out, ip)
		}
	}
	slices.SortFunc(out, netip.Addr.Compare)
	return slices.Compact(out), nil
}

// hostAddr is a as a host route: /32 or /128.
func hostAddr(a netip.Addr) *netlink.Addr {
	p := netip.PrefixFrom(a, a.BitLen())
	addr, _ := netlink.ParseAddr(p.String())
	return addr
}
