package ipvs

import (
	"cmp"
	"net/netip"
	"slices"
	"strconv"
)

// Protocol is the transport protocol of a virtual server, upper case as
// ipvsadm prints it: "TCP", "UDP" or "SCTP". Firewall-mark services have none.
type Protocol string

// Protocols known to IPVS.
const (
	TCP  Protocol = "TCP"
	UDP  Protocol = "UDP"
	SCTP Protocol = "SCTP"
)

// Flags are the IPVS service flags (IP_VS_SVC_F_* in linux/ip_vs.h).
type Flags uint32

// Service flags. FlagHashed is set by the kernel on every service and is
// dropped when state is read, so that expected and actual state compare equal.
const (
	FlagPersistent Flags = 0x0001
	FlagHashed     Flags = 0x0002
	FlagOnePacket  Flags = 0x0004
	FlagSched1     Flags = 0x0008 // sh-fallback / mh-fallback
	FlagSched2     Flags = 0x0010 // sh-port / mh-port; kube-proxy sets it for "mh"
	FlagSched3     Flags = 0x0020
)

// ForwardMethod is how IPVS hands a packet to a real server.
type ForwardMethod string

// Forwarding methods, named as `ipvsadm -L` prints them.
const (
	Masquerade ForwardMethod = "Masq"
	Route      ForwardMethod = "Route"
	Tunnel     ForwardMethod = "Tunnel"
	LocalNode  ForwardMethod = "Local"
)

// VirtualServer is one IPVS service: either address+port+protocol, or a
// firewall mark (FWMark != 0, Address and Protocol unset).
type VirtualServer struct {
	Address   netip.Addr
	Port      uint16
	Protocol  Protocol
	FWMark    uint32
	IPv6      bool // address family of a firewall-mark service; derived from Address otherwise
	Scheduler string
	Flags     Flags
	// Timeout is the persistence timeout in seconds (meaningful with FlagPersistent).
	Timeout uint32
	// Netmask is the persistence granularity as prefix bits; 0 means a single
	// client address (/32 or /128), the default.
	Netmask     int
	PE          string // persistence engine, e.g. "sip"
	RealServers []RealServer
}

// RealServer is one destination of a virtual server.
type RealServer struct {
	Address       netip.Addr
	Port          uint16
	Weight        int
	Forward       ForwardMethod
	ActiveConns   int
	InactiveConns int
}

// Table is a whole IPVS table, virtual servers in a stable order.
type Table struct {
	VirtualServers []VirtualServer
}

// Key identifies a virtual server the way kube-proxy names it:
// "10.96.0.1:443/TCP", "[fd00::1]:80/UDP", or "FWM:100" for a firewall mark.
func (v VirtualServer) Key() string {
	if v.FWMark != 0 {
		if v.IPv6 {
			return "FWM:" + strconv.FormatUint(uint64(v.FWMark), 10) + "/IPv6"
		}
		return "FWM:" + strconv.FormatUint(uint64(v.FWMark), 10)
	}
	return netip.AddrPortFrom(v.Address, v.Port).String() + "/" + string(v.Protocol)
}

// Persistent reports whether the service pins clients to a real server.
func (v VirtualServer) Persistent() bool { return v.Flags&FlagPersistent != 0 }

// Key identifies a real server within its virtual server: "10.244.1.7:8080".
func (r RealServer) Key() string {
	return netip.AddrPortFrom(r.Address, r.Port).String()
}

// Lookup returns the virtual server serving protocol, address and port.
func (t Table) Lookup(proto Protocol, addr netip.Addr, port uint16) (VirtualServer, bool) {
	want := VirtualServer{Address: addr.Unmap(), Port: port, Protocol: proto}.Key()
	for _, v := range t.VirtualServers {
		if v.Key() == want {
			return v, true
		}
	}
	return VirtualServer{}, false
}

// Sort puts t in canonical form so that two tables holding the same state
// print and compare the same: virtual servers ordered by firewall mark,
// protocol, address and port; real servers by address and port; IPv6 set
// from the address of address-based services; no empty real server lists.
func (t *Table) Sort() {
	for i := range t.VirtualServers {
		vs := &t.VirtualServers[i]
		if vs.FWMark == 0 {
			vs.IPv6 = vs.Address.Is6()
		}
		if len(vs.RealServers) == 0 {
			vs.RealServers = nil
		}
		slices.SortFunc(t.VirtualServers[i].RealServers, func(a, b RealServer) int {
			return cmp.Or(a.Address.Compare(b.Address), cmp.Compare(a.Port, b.Port))
		})
	}
	slices.SortFunc(t.VirtualServers, compareVirtualServers)
}

func compareVirtualServers(a, b VirtualServer) int {
	return cmp.Or(
		cmp.Compare(a.FWMark, b.FWMark),
		cmp.Compare(a.Protocol, b.Protocol),
		a.Address.Compare(b.Address),
		cmp.Compare(a.Port, b.Port),
		compareBool(a.IPv6, b.IPv6),
	)
}

func compareBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case !a:
		return -1
	default:
		return 1
	}
}
