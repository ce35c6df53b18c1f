// Package ipset programs the kernel's IP sets, the ones kube-proxy's IPVS
// mode matches with `-m set --match-set`, behind Interface. Netlink is the
// kernel's (github.com/vishvananda/netlink, no ipset binary needed);
// ipsettest.Fake keeps the same state in memory for tests and can Dump it.
//
// Entries are strings in the form `ipset list` prints and kube-proxy's
// Entry.String() writes: "10.96.0.1" (hash:ip), "10.96.0.1,tcp:443"
// (hash:ip,port), "10.244.1.7,tcp:8080,10.244.1.7" (hash:ip,port,ip),
// "203.0.113.9,tcp:80,10.0.0.0/8" (hash:ip,port,net), "30080" (bitmap:port).
package ipset

import (
	"context"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// Type is an ipset type name.
type Type string

// The set types kube-proxy's IPVS mode uses.
const (
	HashIP        Type = "hash:ip"
	HashIPPort    Type = "hash:ip,port"
	HashIPPortIP  Type = "hash:ip,port,ip"
	HashIPPortNet Type = "hash:ip,port,net"
	BitmapPort    Type = "bitmap:port"
)

// Set names a set and its type. Hash sets are created as kube-proxy
// creates them (hashsize 1024, maxelem 65536), bitmap:port sets with the
// range 0-65535.
type Set struct {
	Name string
	Type Type
	IPv6 bool
}

// Interface reads and programs IP sets.
type Interface interface {
	// ListSets returns the names of every set.
	ListSets(ctx context.Context) ([]string, error)
	// CreateSet creates s; a set of that name and type that exists already is kept.
	CreateSet(ctx context.Context, s Set) error
	// DestroySet removes a set, which must not be referenced by a rule.
	DestroySet(ctx context.Context, name string) error
	// ListEntries returns the entries of a set, sorted.
	ListEntries(ctx context.Context, name string) ([]string, error)
	// AddEntry adds an entry; it fails if the entry is there already.
	AddEntry(ctx context.Context, name, entry string) error
	// DelEntry removes an entry; it fails if the entry is absent.
	DelEntry(ctx context.Context, name, entry string) error
}

// Entry is a parsed entry: an address (absent in bitmap:port), an optional
// protocol and port, and an optional second address or network.
type Entry struct {
	IP       netip.Addr
	Protocol string // "tcp", "udp", "sctp"; empty without a port
	Port     uint16
	HasPort  bool
	// Net is the third part: an address (/32 or /128) or a network.
	Net netip.Prefix
}

var protoNames = map[string]string{"6": "tcp", "17": "udp", "132": "sctp"}

// ParseEntry reads an entry in `ipset list` form.
func ParseEntry(s string) (Entry, error) {
	parts := strings.Split(s, ",")
	var e Entry
	bad := func(why string) (Entry, error) {
		return Entry{}, fmt.Errorf("ipset entry %q: %s", s, why)
	}
	if len(parts) == 1 {
		if p, err := strconv.ParseUint(s, 10, 16); err == nil {
			e.Port, e.HasPort = uint16(p), true
			return e, nil
		}
	}
	ip, err := netip.ParseAddr(parts[0])
	if err != nil {
		return bad("first part is neither an address nor a port")
	}
	e.IP = ip.Unmap()
	if len(parts) >= 2 {
		proto, port, ok := strings.Cut(parts[1], ":")
		if name, numeric := protoNames[proto]; numeric {
			proto = name // the ipset tool prints numbers without /etc/protocols
		}
		p, err := strconv.ParseUint(port, 10, 16)
		if !ok || err != nil || (proto != "tcp" && proto != "udp" && proto != "sctp") {
			return bad("second part is not protocol:port")
		}
		e.Protocol, e.Port, e.HasPort = proto, uint16(p), true
	}
	if len(parts) == 3 {
		third := parts[2]
		if !strings.Contains(third, "/") {
			a, err := netip.ParseAddr(third)
			if err != nil {
				return bad("third part is not an address or network")
			}
			third = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()).String()
		}
		if e.Net, err = netip.ParsePrefix(third); err != nil {
			return bad("third part is not an address or network")
		}
		e.Net = e.Net.Masked()
	}
	if len(parts) > 3 {
		return bad("more than three parts")
	}
	return e, nil
}

// String prints e as `ipset list` does; a host network prints as its address.
func (e Entry) String() string {
	if !e.IP.IsValid() {
		return strconv.Itoa(int(e.Port))
	}
	s := e.IP.String()
	if e.HasPort {
		s += "," + e.Protocol + ":" + strconv.Itoa(int(e.Port))
	}
	if e.Net.IsValid() {
		if e.Net.Bits() == e.Net.Addr().BitLen() {
			s += "," + e.Net.Addr().String()
		} else {
			s += "," + e.Net.String()
		}
	}
	return s
}

// Canonical returns entry as `ipset list` prints it back, or an error
// naming the entry when it cannot be read.
func Canonical(entry string) (string, error) {
	e, err := ParseEntry(entry)
	if err != nil {
		return "", err
	}
	return e.String(), nil
}
