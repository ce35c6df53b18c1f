//go:build linux

package conntrack

import (
	"context"
	"fmt"
	"net"
	"net/netip"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netlink/nl"
	"golang.org/x/sys/unix"

	model "github.com/svctrace/kubectl-svctrace/dataplane/conntrack"
)

// Netlink is the connection tracking table of the current network
// namespace.
type Netlink struct{}

var _ Interface = Netlink{}

var families = []netlink.InetFamily{unix.AF_INET, unix.AF_INET6}

// List implements Interface.
func (Netlink) List(ctx context.Context) ([]model.Entry, error) {
	var out []model.Entry
	for _, fam := range families {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		flows, err := netlink.ConntrackTableList(netlink.ConntrackTable, fam)
		if err != nil {
			return nil, fmt.Errorf("list conntrack entries (needs CAP_NET_ADMIN and nf_conntrack_netlink): %w", err)
		}
		for _, f := range flows {
			out = append(out, entryOf(f))
		}
	}
	return out, nil
}

// Delete implements Interface.
func (Netlink) Delete(ctx context.Context, filters ...Filter) (int, error) {
	total := 0
	if len(filters) == 0 {
		return 0, nil
	}
	ff := make([]netlink.CustomConntrackFilter, len(filters))
	for i, f := range filters {
		ff[i] = flowFilter(f)
	}
	for _, fam := range families {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		n, err := netlink.ConntrackDeleteFilters(netlink.ConntrackTable, fam, ff...)
		total += int(n)
		if err != nil {
			return total, fmt.Errorf("delete conntrack entries: %w", err)
		}
	}
	return total, nil
}

// flowFilter matches netlink flows with f.
type flowFilter Filter

func (f flowFilter) MatchConntrackFlow(flow *netlink.ConntrackFlow) bool {
	return Filter(f).Match(entryOf(flow))
}

// tcpStates are the kernel's TCP conntrack states as conntrack -L names
// them (enum tcp_conntrack).
var tcpStates = []string{"NONE", "SYN_SENT", "SYN_RECV", "ESTABLISHED", "FIN_WAIT", "CLOSE_WAIT", "LAST_ACK", "TIME_WAIT", "CLOSE", "SYN_SENT2"}

func entryOf(f *netlink.ConntrackFlow) model.Entry {
	e := model.Entry{Family: "ipv4", Protocol: nl.L4ProtoMap[f.Forward.Protocol], Timeout: uint64(f.TimeOut), Mark: f.Mark, Zone: f.Zone,
		Original: tupleOf(f.Forward), Reply: tupleOf(f.Reverse)}
	if f.FamilyType == unix.AF_INET6 {
		e.Family = "ipv6"
	}
	if e.Protocol == "" {
		e.Protocol = fmt.Sprint(f.Forward.Protocol)
	}
	if tcp, ok := f.ProtoInfo.(*netlink.ProtoInfoTCP); ok && int(tcp.State) < len(tcpStates) {
		e.State = tcpStates[tcp.State]
	}
	return e
}

func tupleOf(t netlink.IPTuple) model.Tuple {
	return model.Tuple{Src: addr(t.SrcIP), Dst: addr(t.DstIP), SPort: t.SrcPort, DPort: t.DstPort, Packets: t.Packets, Bytes: t.Bytes}
}

func addr(ip net.IP) netip.Addr {
	a, _ := netip.AddrFromSlice(ip)
	return a.Unmap()
}
