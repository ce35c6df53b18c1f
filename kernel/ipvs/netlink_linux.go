//go:build linux

package ipvs

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"

	libipvs "github.com/moby/ipvs"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	model "github.com/svctrace/kubectl-svctrace/dataplane/ipvs"
)

// ErrNoIPVS means the running kernel has no IPVS: the generic netlink family
// "IPVS" is not registered.
var ErrNoIPVS = errors.New(`kernel has no IPVS (generic netlink family "IPVS" not found); load it with "modprobe ip_vs" or use a kernel built with CONFIG_IP_VS`)

// Netlink is the Interface of the current network namespace, through
// github.com/moby/ipvs. Every write is read back, because moby/ipvs can
// report success for a request the kernel never applied.
type Netlink struct {
	h *libipvs.Handle
	// Dummy is the interface Service addresses are bound to; empty means
	// kube-ipvs0.
	Dummy string
}

var _ Interface = (*Netlink)(nil)

// NewNetlink opens IPVS in the current network namespace. It refuses with
// ErrNoIPVS on a kernel without IPVS, where moby/ipvs would only log and
// then return empty lists.
func NewNetlink(ctx context.Context) (*Netlink, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := CheckIPVS(); err != nil {
		return nil, err
	}
	h, err := libipvs.New("")
	if err != nil {
		return nil, fmt.Errorf("open ipvs netlink socket: %w", err)
	}
	return &Netlink{h: h}, nil
}

// CheckIPVS reports ErrNoIPVS when the kernel has no IPVS family.
func CheckIPVS() error {
	if _, err := netlink.GenlFamilyGet("IPVS"); err != nil {
		if errors.Is(err, unix.ENOENT) {
			return ErrNoIPVS
		}
		return fmt.Errorf("look up generic netlink family IPVS: %w", err)
	}
	return nil
}

// Close releases the netlink socket.
func (n *Netlink) Close() { n.h.Close() }

// ListVirtualServers implements Interface.
func (n *Netlink) ListVirtualServers(ctx context.Context) ([]model.VirtualServer, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	svcs, err := n.h.GetServices()
	if err != nil {
		return nil, fmt.Errorf("list ipvs services: %w", err)
	}
	out := make([]model.VirtualServer, 0, len(svcs))
	for _, s := range svcs {
		out = append(out, fromService(s))
	}
	return out, nil
}

// ListRealServers implements Interface.
func (n *Netlink) ListRealServers(ctx context.Context, vs model.VirtualServer) ([]model.RealServer, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	dests, err := n.h.GetDestinations(toService(vs))
	if err != nil {
		return nil, fmt.Errorf("list real servers of %s: %w", vs.Key(), err)
	}
	out := make([]model.RealServer, 0, len(dests))
	for _, d := range dests {
		out = append(out, fromDestination(d))
	}
	return out, nil
}

// AddVirtualServer implements Interface.
func (n *Netlink) AddVirtualServer(ctx context.Context, vs model.VirtualServer) error {
	return n.writeService(ctx, "add", vs, n.h.NewService)
}

// UpdateVirtualServer implements Interface.
func (n *Netlink) UpdateVirtualServer(ctx context.Context, vs model.VirtualServer) error {
	return n.writeService(ctx, "update", vs, n.h.UpdateService)
}

// DeleteVirtualServer implements Interface.
func (n *Netlink) DeleteVirtualServer(ctx context.Context, vs model.VirtualServer) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := n.h.DelService(toService(vs)); err != nil {
		return fmt.Errorf("delete virtual server %s: %w", vs.Key(), err)
	}
	if _, ok, err := n.readService(ctx, vs); err != nil || ok {
		return fmt.Errorf("delete virtual server %s: still present after delete (read-back error: %v)", vs.Key(), err)
	}
	return nil
}

func (n *Netlink) writeService(ctx context.Context, verb string, vs model.VirtualServer, do func(*libipvs.Service) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := do(toService(vs)); err != nil {
		return fmt.Errorf("%s virtual server %s: %w", verb, vs.Key(), err)
	}
	got, ok, err := n.readService(ctx, vs)
	if err != nil {
		return fmt.Errorf("%s virtual server %s: read back: %w", verb, vs.Key(), err)
	}
	if !ok || got.Scheduler != vs.Scheduler || got.Flags != vs.Flags || got.Timeout != vs.Timeout {
		return fmt.Errorf("%s virtual server %s: kernel accepted the request but holds %+v", verb, vs.Key(), got)
	}
	return nil
}

func (n *Netlink) readService(ctx context.Context, vs model.VirtualServer) (model.VirtualServer, bool, error) {
	all, err := n.ListVirtualServers(ctx)
	if err != nil {
		return model.VirtualServer{}, false, err
	}
	for _, v := range all {
		if v.Key() == vs.Key() {
			return v, true, nil
		}
	}
	return model.VirtualServer{}, false, nil
}

// AddRealServer implements Interface.
func (n *Netlink) AddRealServer(ctx context.Context, vs model.VirtualServer, rs model.RealServer) error {
	return n.writeDest(ctx, "add", vs, rs, n.h.NewDestination)
}

// UpdateRealServer implements Interface.
func (n *Netlink) UpdateRealServer(ctx context.Context, vs model.VirtualServer, rs model.RealServer) error {
	return n.writeDest(ctx, "update", vs, rs, n.h.UpdateDestination)
}

// DeleteRealServer implements Interface.
func (n *Netlink) DeleteRealServer(ctx context.Context, vs model.VirtualServer, rs model.RealServer) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := n.h.DelDestination(toService(vs), toDestination(rs)); err != nil {
		return fmt.Errorf("delete real server %s of %s: %w", rs.Key(), vs.Key(), err)
	}
	if _, ok, err := n.readDest(ctx, vs, rs); err != nil || ok {
		return fmt.Errorf("delete real server %s of %s: still present after delete (read-back error: %v)", rs.Key(), vs.Key(), err)
	}
	return nil
}

func (n *Netlink) writeDest(ctx context.Context, verb string, vs model.VirtualServer, rs model.RealServer, do func(*libipvs.Service, *libipvs.Destination) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := do(toService(vs), toDestination(rs)); err != nil {
		return fmt.Errorf("%s real server %s of %s: %w", verb, rs.Key(), vs.Key(), err)
	}
	got, ok, err := n.readDest(ctx, vs, rs)
	if err != nil {
		return fmt.Errorf("%s real server %s of %s: read back: %w", verb, rs.Key(), vs.Key(), err)
	}
	if !ok || got.Weight != rs.Weight || got.Forward != forwardOrMasq(rs.Forward) {
		return fmt.Errorf("%s real server %s of %s: kernel accepted the request but holds %+v", verb, rs.Key(), vs.Key(), got)
	}
	return nil
}

func (n *Netlink) readDest(ctx context.Context, vs model.VirtualServer, rs model.RealServer) (model.RealServer, bool, error) {
	all, err := n.ListRealServers(ctx, vs)
	if err != nil {
		return model.RealServer{}, false, err
	}
	for _, r := range all {
		if r.Key() == rs.Key() {
			return r, true, nil
		}
	}
	return model.RealServer{}, false, nil
}

func toService(vs model.VirtualServer) *libipvs.Service {
	s := &libipvs.Service{
		Protocol:  map[model.Protocol]uint16{model.TCP: unix.IPPROTO_TCP, model.UDP: unix.IPPROTO_UDP, model.SCTP: unix.IPPROTO_SCTP}[vs.Protocol],
		Port:      vs.Port,
		FWMark:    vs.FWMark,
		SchedName: vs.Scheduler,
		Flags:     uint32(vs.Flags &^ model.FlagHashed),
		Timeout:   vs.Timeout,
		PEName:    vs.PE,
	}
	if vs.FWMark == 0 {
		s.Address = net.IP(vs.Address.AsSlice())
	}
	ipv6 := vs.IPv6 || vs.Address.Is6()
	s.AddressFamily, s.Netmask = unix.AF_INET, 0xffffffff
	if ipv6 {
		s.AddressFamily, s.Netmask = unix.AF_INET6, 128
	}
	if vs.Netmask != 0 {
		s.Netmask = uint32(vs.Netmask)
		if !ipv6 {
			// The kernel keeps an IPv4 mask in network order; netlink attributes
			// are native-endian, so send the mask's bytes read natively.
			s.Netmask = binary.NativeEndian.Uint32(net.CIDRMask(vs.Netmask, 32))
		}
	}
	return s
}

func fromService(s *libipvs.Service) model.VirtualServer {
	vs := model.VirtualServer{
		Port:      s.Port,
		FWMark:    s.FWMark,
		Scheduler: s.SchedName,
		Flags:     model.Flags(s.Flags) &^ model.FlagHashed,
		Timeout:   s.Timeout,
		PE:        s.PEName,
		IPv6:      s.AddressFamily == unix.AF_INET6,
	}
	vs.Protocol = map[uint16]model.Protocol{unix.IPPROTO_TCP: model.TCP, unix.IPPROTO_UDP: model.UDP, unix.IPPROTO_SCTP: model.SCTP}[s.Protocol]
	if s.FWMark != 0 {
		vs.Protocol, vs.Port = "", 0
	} else if a, ok := netip.AddrFromSlice(s.Address); ok {
		vs.Address = a.Unmap()
	}
	vs.Netmask = netmaskBits(s.Netmask, vs.IPv6)
	return vs
}

func netmaskBits(m uint32, ipv6 bool) int {
	if ipv6 {
		if m >= 128 {
			return 0
		}
		return int(m)
	}
	var b [4]byte
	binary.NativeEndian.PutUint32(b[:], m)
	bits := 0
	for _, x := range b {
		for i := 7; i >= 0 && x&(1<<i) != 0; i-- {
			bits++
		}
	}
	if bits == 32 {
		return 0
	}
	return bits
}

var forwardFlags = map[model.ForwardMethod]uint32{
	model.Masquerade: libipvs.ConnFwdMasq, model.LocalNode: libipvs.ConnFwdLocalNode,
	model.Tunnel: libipvs.ConnFwdTunnel, model.Route: libipvs.ConnFwdDirectRoute,
}

func forwardOrMasq(f model.ForwardMethod) model.ForwardMethod {
	if f == "" {
		return model.Masquerade
	}
	return f
}

func toDestination(rs model.RealServer) *libipvs.Destination {
	d := &libipvs.Destination{
		Address:         net.IP(rs.Address.AsSlice()),
		Port:            rs.Port,
		Weight:          rs.Weight,
		ConnectionFlags: forwardFlags[forwardOrMasq(rs.Forward)],
		AddressFamily:   unix.AF_INET,
	}
	if rs.Address.Is6() {
		d.AddressFamily = unix.AF_INET6
	}
	return d
}

func fromDestination(d *libipvs.Destination) model.RealServer {
	rs := model.RealServer{Port: d.Port, Weight: d.Weight, ActiveConns: d.ActiveConnections, InactiveConns: d.InactiveConnections}
	if a, ok := netip.AddrFromSlice(d.Address); ok {
		rs.Address = a.Unmap()
	}
	for m, f := range forwardFlags {
		if d.ConnectionFlags&libipvs.ConnFwdMask == f {
			rs.Forward = m
		}
	}
	return rs
}
