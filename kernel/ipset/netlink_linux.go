//go:build linux

package ipset

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"syscall"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netlink/nl"
	"golang.org/x/sys/unix"
)

// ErrNoIPSet means the running kernel has no ip_set support.
var ErrNoIPSet = errors.New(`kernel has no ip_set (the ipset netlink protocol does not answer); load it with "modprobe ip_set" or use a kernel built with CONFIG_IP_SET`)

// Netlink is the Interface of the current network namespace.
type Netlink struct{}

var _ Interface = Netlink{}

// NewNetlink checks that the kernel speaks the ipset protocol.
func NewNetlink(ctx context.Context) (Netlink, error) {
	if err := ctx.Err(); err != nil {
		return Netlink{}, err
	}
	if _, _, err := netlink.IpsetProtocol(); err != nil {
		return Netlink{}, fmt.Errorf("%w: %v", ErrNoIPSet, err)
	}
	return Netlink{}, nil
}

// ListSets implements Interface.
func (Netlink) ListSets(ctx context.Context) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	all, err := netlink.IpsetListAll()
	if err != nil {
		return nil, fmt.Errorf("list ip sets: %w", err)
	}
	var out []string
	for _, s := range all {
		out = append(out, s.SetName)
	}
	slices.Sort(out)
	return out, nil
}

// CreateSet implements Interface.
func (Netlink) CreateSet(ctx context.Context, s Set) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	opts := netlink.IpsetCreateOptions{Replace: true, Family: unix.AF_INET}
	if s.IPv6 {
		opts.Family = unix.AF_INET6
	}
	if s.Type == BitmapPort {
		opts.PortFrom, opts.PortTo = 0, 65535
	} else {
		opts.MaxElements = 65536
	}
	if err := netlink.IpsetCreate(s.Name, string(s.Type), opts); err != nil {
		return fmt.Errorf("create ip set %s (%s): %w", s.Name, s.Type, err)
	}
	return nil
}

// DestroySet implements Interface.
func (Netlink) DestroySet(ctx context.Context, name string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := netlink.IpsetDestroy(name); err != nil {
		return fmt.Errorf("destroy ip set %s: %w", name, err)
	}
	return nil
}

// ListEntries implements Interface.
func (Netlink) ListEntries(ctx context.Context, name string) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	res, err := netlink.IpsetList(name)
	if err != nil {
		return nil, fmt.Errorf("list ip set %s: %w", name, err)
	}
	out := make([]string, 0, len(res.Entries))
	for _, e := range res.Entries {
		out = append(out, fromNetlink(e).String())
	}
	slices.Sort(out)
	return out, nil
}

// AddEntry implements Interface.
func (Netlink) AddEntry(ctx context.Context, name, entry string) error {
	return edit(ctx, "add", name, entry, netlink.IpsetAdd)
}

// DelEntry implements Interface.
func (Netlink) DelEntry(ctx context.Context, name, entry string) error {
	return edit(ctx, "delete", name, entry, netlink.IpsetDel)
}

func edit(ctx context.Context, verb, name, entry string, do func(string, *netlink.IPSetEntry) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	e, err := ParseEntry(entry)
	if err != nil {
		return err
	}
	if !e.IP.IsValid() {
		// bitmap:port: the library always sends a protocol with a port,
		// which the kernel refuses for this type.
		cmd := nl.IPSET_CMD_ADD
		if verb == "delete" {
			cmd = nl.IPSET_CMD_DEL
		}
		err = editPort(cmd, name, e.Port)
	} else {
		err = do(name, toNetlink(e))
	}
	if err != nil {
		return fmt.Errorf("%s %s in ip set %s: %w", verb, entry, name, err)
	}
	return nil
}

// editPort adds or deletes a port of a bitmap:port set: the request the
// library sends, without the protocol attribute.
func editPort(cmd int, name string, port uint16) error {
	flags := nl.GetIpsetFlags(cmd)
	if cmd == nl.IPSET_CMD_ADD {
		flags |= unix.NLM_F_EXCL
	}
	req := nl.NewNetlinkRequest(cmd|(unix.NFNL_SUBSYS_IPSET<<8), flags)
	req.AddData(&nl.Nfgenmsg{NfgenFamily: uint8(unix.AF_NETLINK), Version: nl.NFNETLINK_V0})
	req.AddData(nl.NewRtAttr(nl.IPSET_ATTR_PROTOCOL, nl.Uint8Attr(nl.IPSET_PROTOCOL)))
	req.AddData(nl.NewRtAttr(nl.IPSET_ATTR_SETNAME, nl.ZeroTerminated(name)))
	data := nl.NewRtAttr(nl.IPSET_ATTR_DATA|int(nl.NLA_F_NESTED), nil)
	buf := make([]byte, 2)
	binary.BigEndian.PutUint16(buf, port)
	data.AddChild(nl.NewRtAttr(int(nl.IPSET_ATTR_PORT|nl.NLA_F_NET_BYTEORDER), buf))
	data.AddChild(&nl.Uint32Attribute{Type: nl.IPSET_ATTR_LINENO | nl.NLA_F_NET_BYTEORDER, Value: 0})
	req.AddData(data)
	_, err := req.Execute(unix.NETLINK_NETFILTER, 0)
	var errno syscall.Errno
	if errors.As(err, &errno) && int(errno) >= nl.IPSET_ERR_PRIVATE {
		return nl.IPSetError(uintptr(errno))
	}
	return err
}

var protoNumbers = map[string]uint8{"tcp": unix.IPPROTO_TCP, "udp": unix.IPPROTO_UDP, "sctp": unix.IPPROTO_SCTP}

func toNetlink(e Entry) *netlink.IPSetEntry {
	n := &netlink.IPSetEntry{}
	if e.IP.IsValid() {
		n.IP = net.IP(e.IP.AsSlice())
	}
	if e.HasPort {
		port := e.Port
		n.Port = &port
		if e.Protocol != "" {
			p := protoNumbers[e.Protocol]
			n.Protocol = &p
		}
	}
	if e.Net.IsValid() {
		n.IP2 = net.IP(e.Net.Addr().AsSlice())
		if e.Net.Bits() != e.Net.Addr().BitLen() {
			n.CIDR2 = uint8(e.Net.Bits())
		}
	}
	return n
}

func fromNetlink(n netlink.IPSetEntry) Entry {
	var e Entry
	if a, ok := netipAddr(n.IP); ok {
		e.IP = a
	}
	if n.Port != nil {
		e.Port, e.HasPort = *n.Port, true
		if n.Protocol != nil && e.IP.IsValid() {
			for name, num := range protoNumbers {
				if num == *n.Protocol {
					e.Protocol = name
				}
			}
		}
	}
	if a, ok := netipAddr(n.IP2); ok {
		bits := a.BitLen()
		if n.CIDR2 != 0 {
			bits = int(n.CIDR2)
		}
		e.Net = netipPrefix(a, bits)
	}
	return e
}
func netipAddr(ip net.IP) (netip.Addr, bool) {
	if len(ip) == 0 {
		return netip.Addr{}, false
	}
	a, ok := netip.AddrFromSlice(ip)
	return a.Unmap(), ok
}

func netipPrefix(a netip.Addr, bits int) netip.Prefix {
	return netip.PrefixFrom(a, bits).Masked()
}
