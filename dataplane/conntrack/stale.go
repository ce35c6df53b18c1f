package conntrack

import (
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/svctrace/kubectl-svctrace/dataplane"
)

// StaleEntryID is the finding ID for a conntrack entry pinned to a backend
// that is no longer an endpoint of its Service.
const StaleEntryID = "StaleConntrackEntry"

// ServiceVIP is one Service address:port/protocol and its current endpoints.
type ServiceVIP struct {
	// Service names the port for humans, e.g. "default/dns:dns".
	Service  string
	Protocol string // tcp, udp or sctp (any case)
	VIP      netip.AddrPort
	// Endpoints are the backends currently serving the VIP (ip:targetPort).
	Endpoints []netip.AddrPort
}

// Finding is one stale entry.
type Finding struct {
	ID       string
	Subject  string // "udp 10.96.0.10:53 from 10.244.0.5:41234"
	Expected string
	Actual   string
	// Message says what is wrong; Command is the conntrack command that
	// deletes just this entry.
	Message string
	Command string
	// Where is the flow: its protocol, Service address, backend and client.
	Where dataplane.Locator
	// Endpoints are the VIP's current endpoints.
	Endpoints []netip.AddrPort
	Entry     Entry
}

// FindStale returns the entries whose original destination is a Service VIP
// and whose reply source is not one of the VIP's endpoints: either the
// backend is gone (pod replaced) or the entry was made while the Service had
// no endpoints and was never translated. UDP suffers most: every packet
// refreshes the entry, so the client keeps talking to nothing until the
// entry is deleted (conntrack -D) — kube-proxy does this on endpoint changes
// for UDP; an entry found here means it did not.
func FindStale(entries []Entry, vips []ServiceVIP) []Finding {
	index := map[string]ServiceVIP{}
	for _, v := range vips {
		index[vipKey(strings.ToLower(v.Protocol), v.VIP)] = v
	}
	var out []Finding
	for _, e := range entries {
		v, ok := index[vipKey(e.Protocol, netip.AddrPortFrom(e.Original.Dst, e.Original.DPort))]
		if !ok {
			continue
		}
		if closing[e.State] {
			continue // a closing TCP connection to a gone backend harms no one
		}
		backend := netip.AddrPortFrom(e.Reply.Src, e.Reply.SPort)
		if containsAddrPort(v.Endpoints, backend) {
			continue
		}
		out = append(out, staleFinding(e, v, backend))
	}
	return out
}

func staleFinding(e Entry, v ServiceVIP, backend netip.AddrPort) Finding {
	client := netip.AddrPortFrom(e.Original.Src, e.Original.SPort)
	f := Finding{
		ID:       StaleEntryID,
		Subject:  fmt.Sprintf("%s %s from %s", e.Protocol, v.VIP, client),
		Expected: "no entry: the service has no endpoints",
		Actual:   "reply from " + backend.String(),
		Entry:    e,
		Where: dataplane.Locator{Mode: dataplane.ModeConntrack, Protocol: e.Protocol, Service: v.VIP,
			Endpoint: backend, Address: client.Addr()},
		Endpoints: v.Endpoints,
	}
	if len(v.Endpoints) > 0 {
		f.Expected = "reply from one of " + joinAddrPorts(v.Endpoints)
	}
	if !e.DNATed() {
		f.Actual = "not translated (reply from the VIP itself)"
		f.Message = fmt.Sprintf("conntrack entry (line %d) for %s was made when %s had no endpoints and was never translated; its packets go nowhere until it expires in %s",
			e.Line, f.Subject, v.Service, expiry(e.Timeout))
		f.Command = fmt.Sprintf("conntrack -D -p %s --orig-dst %s --orig-port-dst %d", e.Protocol, v.VIP.Addr(), v.VIP.Port())
		return f
	}
	f.Message = fmt.Sprintf("conntrack entry (line %d) for %s still sends to %s, which is no longer an endpoint of %s; its packets are lost until it expires in %s",
		e.Line, f.Subject, backend, v.Service, expiry(e.Timeout))
	f.Command = fmt.Sprintf("conntrack -D -p %s --orig-dst %s --reply-src %s", e.Protocol, v.VIP.Addr(), backend.Addr())
	return f
}

// closing lists TCP states in which the connection is already ending.
var closing = map[string]bool{
	"FIN_WAIT": true, "CLOSE_WAIT": true, "LAST_ACK": true, "TIME_WAIT": true, "CLOSE": true,
}

func vipKey(proto string, ap netip.AddrPort) string {
	return proto + " " + netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()).String()
}

func containsAddrPort(list []netip.AddrPort, x netip.AddrPort) bool {
	for _, a := range list {
		if netip.AddrPortFrom(a.Addr().Unmap(), a.Port()) == x {
			return true
		}
	}
	return false
}

func joinAddrPorts(list []netip.AddrPort) string {
	s := make([]string, len(list))
	for i, a := range list {
		s[i] = a.String()
	}
	return strings.Join(s, ", ")
}

// expiry prints a conntrack timeout (seconds) the way people read it.
func expiry(seconds uint64) string {
	return (time.Duration(seconds) * time.Second).String()
}
