// Package conntrack reads `conntrack -L` output and finds entries that still
// send a Service's traffic to a backend that is no longer an endpoint — the
// UDP blackhole after a pod is replaced, until the entry times out or is
// deleted.
package conntrack

import (
	"net/netip"
)

// Tuple is one direction of a connection.
type Tuple struct {
	Src, Dst     netip.Addr
	SPort, DPort uint16 // zero for protocols without ports (icmp)
	// Packets and Bytes are present with accounting (nf_conntrack_acct=1).
	Packets, Bytes uint64
}

// Entry is one conntrack entry.
type Entry struct {
	Line      int    // 1-based line in the input
	Family    string // "ipv4"/"ipv6" with -o extended, else derived from the addresses
	Protocol  string // lower case: tcp, udp, sctp, icmp, ...
	Timeout   uint64 // seconds until the entry expires
	State     string // TCP/SCTP state, e.g. ESTABLISHED; empty for udp
	Original  Tuple
	Reply     Tuple
	Assured   bool // [ASSURED]
	Unreplied bool // [UNREPLIED]
	Mark      uint32
	Zone      uint16
	Use       uint32
}

// DNATed reports whether the reply does not come from the original
// destination, i.e. the connection was translated to a backend.
func (e Entry) DNATed() bool {
	return e.Reply.Src != e.Original.Dst || e.Reply.SPort != e.Original.DPort
}
