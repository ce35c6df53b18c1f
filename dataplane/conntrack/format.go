package conntrack

import (
	"fmt"
	"strings"
)

// protocolNumbers are the IP protocol numbers conntrack -L prints after
// the protocol's name.
var protocolNumbers = map[string]int{"icmp": 1, "tcp": 6, "udp": 17, "icmpv6": 58, "sctp": 132}

// Format writes entries as `conntrack -L` prints them, one a line, so
// that Parse reads them back (Line aside): what a table read through
// netlink is stored as in a snapshot.
func Format(entries []Entry) string {
	var b strings.Builder
	for _, e := range entries {
		fmt.Fprintf(&b, "%-8s %d %d ", e.Protocol, protocolNumbers[e.Protocol], e.Timeout)
		if e.State != "" {
			b.WriteString(e.State + " ")
		}
		writeTuple(&b, e.Original)
		if e.Unreplied {
			b.WriteString("[UNREPLIED] ")
		}
		writeTuple(&b, e.Reply)
		if e.Assured {
			b.WriteString("[ASSURED] ")
		}
		fmt.Fprintf(&b, "mark=%d ", e.Mark)
		if e.Zone != 0 {
			fmt.Fprintf(&b, "zone=%d ", e.Zone)
		}
		fmt.Fprintf(&b, "use=%d\n", e.Use)
	}
	return b.String()
}

func writeTuple(b *strings.Builder, t Tuple) {
	fmt.Fprintf(b, "src=%s dst=%s ", t.Src, t.Dst)
	if t.SPort != 0 || t.DPort != 0 {
		fmt.Fprintf(b, "sport=%d dport=%d ", t.SPort, t.DPort)
	}
	if t.Packets != 0 || t.Bytes != 0 {
		fmt.Fprintf(b, "packets=%d bytes=%d ", t.Packets, t.Bytes)
	}
}
