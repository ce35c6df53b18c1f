package ipvs

import (
	"fmt"
	"net/netip"
)

// Outcome is one real server a new connection can reach, with its share.
type Outcome struct {
	RealServer  RealServer
	Probability float64
}

// WalkResult is where a new connection to a VIP:port/protocol goes.
type WalkResult struct {
	// Found is false when no virtual server matches: IPVS does not touch
	// the packet and it is delivered (or not) as ordinary traffic.
	Found         bool
	VirtualServer VirtualServer
	Outcomes      []Outcome
	// Approximate is true for schedulers whose choice depends on load or a
	// hash of the client (lc, wlc, sh, mh, ...): shares then follow weights,
	// which is what many clients over time see, not what one connection gets.
	Approximate bool
	// Note explains the result in one sentence for a human.
	Note string
}

// Walk follows a new connection to proto addr:port through t.
func Walk(t Table, proto Protocol, addr netip.Addr, port uint16) WalkResult {
	vs, ok := t.Lookup(proto, addr, port)
	if !ok {
		return WalkResult{Note: fmt.Sprintf("no IPVS virtual server for %s %s: the packet is not load-balanced",
			proto, netip.AddrPortFrom(addr.Unmap(), port))}
	}
	out, approx := Shares(vs)
	r := WalkResult{Found: true, VirtualServer: vs, Outcomes: out, Approximate: approx}
	switch {
	case len(vs.RealServers) == 0:
		r.Note = "virtual server has no real servers: the kernel answers new connections with ICMP port unreachable (connection refused)"
	case totalWeight(vs) == 0:
		r.Note = "every real server has weight 0 (draining): the kernel answers new connections with ICMP port unreachable (connection refused)"
	case vs.Persistent():
		r.Note = fmt.Sprintf("persistent for %ds: a client's first connection follows these shares, later ones stick to the same real server", vs.Timeout)
	}
	return r
}

// Shares gives each real server its share of new connections. Weight 0
// always gets 0. rr shares equally among the rest; wrr and the load- and
// hash-based schedulers share by weight (approximate for the latter); fo
// sends everything to the first real server of highest weight.
func Shares(vs VirtualServer) ([]Outcome, bool) {
	out := make([]Outcome, len(vs.RealServers))
	for i, rs := range vs.RealServers {
		out[i].RealServer = rs
	}
	total := totalWeight(vs)
	if total == 0 {
		return out, false
	}
	switch vs.Scheduler {
	case "rr", "lc":
		n := 0
		for _, rs := range vs.RealServers {
			if rs.Weight > 0 {
				n++
			}
		}
		for i, rs := range vs.RealServers {
			if rs.Weight > 0 {
				out[i].Probability = 1 / float64(n)
			}
		}
		return out, vs.Scheduler != "rr"
	case "fo":
		best := 0
		for i, rs := range vs.RealServers {
			if rs.Weight > vs.RealServers[best].Weight {
				best = i
			}
		}
		out[best].Probability = 1
		return out, false
	}
	for i, rs := range vs.RealServers {
		out[i].Probability = float64(rs.Weight) / float64(total)
	}
	return out, vs.Scheduler != "wrr"
}

func totalWeight(vs VirtualServer) int {
	total := 0
	for _, rs := range vs.RealServers {
		if rs.Weight > 0 {
			total += rs.Weight
		}
	}
	return total
}
