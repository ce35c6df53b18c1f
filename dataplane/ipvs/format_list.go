package ipvs

import (
	"fmt"
	"net/netip"
	"strings"
)

// FormatList prints t as `ipvsadm -Ln` does, so ParseList reads it back.
// Unlike ipvsadm-save it keeps each real server's active and inactive
// connections: what the node's IPVS really holds, set beside the expected
// shares of a walk.
func FormatList(t Table) string {
	var b strings.Builder
	b.WriteString("IP Virtual Server version 1.2.1 (size=4096)\n")
	b.WriteString("Prot LocalAddress:Port Scheduler Flags\n")
	b.WriteString("  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n")
	for _, vs := range t.VirtualServers {
		if vs.FWMark != 0 {
			fmt.Fprintf(&b, "FWM  %d ", vs.FWMark)
			if vs.IPv6 {
				b.WriteString("IPv6 ")
			}
		} else {
			fmt.Fprintf(&b, "%-4s %s ", vs.Protocol, netip.AddrPortFrom(vs.Address, vs.Port))
		}
		b.WriteString(vs.Scheduler)
		if f := schedFlagString(vs.Scheduler, vs.Flags); f != "" {
			fmt.Fprintf(&b, " (%s)", f)
		}
		if vs.Persistent() {
			fmt.Fprintf(&b, " persistent %d", vs.Timeout)
			if vs.Netmask != 0 {
				fmt.Fprintf(&b, " mask %s", maskString(vs))
			}
		}
		if vs.PE != "" {
			fmt.Fprintf(&b, " pe %s", vs.PE)
		}
		if vs.Flags&FlagOnePacket != 0 {
			b.WriteString(" ops")
		}
		b.WriteByte('\n')
		for _, rs := range vs.RealServers {
			fmt.Fprintf(&b, "  -> %-28s %-7s %-6d %-10d %d\n", rs.Key(), rs.Forward, rs.Weight, rs.ActiveConns, rs.InactiveConns)
		}
	}
	return b.String()
}
