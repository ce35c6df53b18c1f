package dns

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// RecordType names a resource record type the kubernetes plugin serves.
type RecordType string

// Record types the package models.
const (
	TypeA     RecordType = "A"
	TypeAAAA  RecordType = "AAAA"
	TypeCNAME RecordType = "CNAME"
	TypeSRV   RecordType = "SRV"
)

// DefaultTTL is the TTL the kubernetes plugin puts on every answer unless its
// ttl option says otherwise (defaultTTL in plugin/kubernetes/kubernetes.go).
const DefaultTTL uint32 = 5

// DefaultClusterDomain is the zone used when no cluster domain is given.
const DefaultClusterDomain = "cluster.local"

// Record is one resource record. Names are lower case and fully qualified
// (trailing dot) so records from Expect and from a live answer compare equal.
type Record struct {
	Name string
	Type RecordType
	// Value is the IP for A/AAAA, the target name for CNAME and SRV.
	Value string
	TTL   uint32
	// Port, Priority and Weight are set for SRV only.
	Port     uint16 `json:",omitempty"`
	Priority uint16 `json:",omitempty"`
	Weight   uint16 `json:",omitempty"`
}

// String prints the record in zone-file order, e.g.
// "_http._tcp.web.default.svc.cluster.local. 5 IN SRV 0 100 80 web.default.svc.cluster.local.".
func (r Record) String() string {
	if r.Type == TypeSRV {
		return fmt.Sprintf("%s %d IN SRV %d %d %d %s", r.Name, r.TTL, r.Priority, r.Weight, r.Port, r.Value)
	}
	return fmt.Sprintf("%s %d IN %s %s", r.Name, r.TTL, r.Type, r.Value)
}

// Question is one name and type to ask a DNS server.
type Question struct {
	Name string
	Type RecordType
}

func (q Question) String() string { return q.Name + " " + string(q.Type) }

// fqdn lower-cases name and adds the trailing dot DNS answers carry.
func fqdn(name string) string {
	name = strings.ToLower(name)
	if strings.HasSuffix(name, ".") {
		return name
	}
	return name + "."
}

// addrRecord builds an A or AAAA record for ip, or reports false when ip is
// not an address (CoreDNS would treat such a value as a CNAME target).
func addrRecord(name, ip string) (Record, bool) {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return Record{}, false
	}
	t := TypeAAAA
	if a.Unmap().Is4() {
		t = TypeA
		a = a.Unmap()
	}
	return Record{Name: name, Type: t, Value: a.String(), TTL: DefaultTTL}, true
}

// sortRecords orders records by name, type, then value and port, so output
// and comparisons do not depend on informer or answer order.
func sortRecords(rs []Record) {
	slices.SortFunc(rs, func(a, b Record) int {
		return cmpKeys(a.Name, b.Name, string(a.Type), string(b.Type), a.Value, b.Value, int(a.Port), int(b.Port))
	})
}

func cmpKeys(a1, b1, a2, b2, a3, b3 string, a4, b4 int) int {
	if c := strings.Compare(a1, b1); c != 0 {
		return c
	}
	if c := strings.Compare(a2, b2); c != 0 {
		return c
	}
	if c := strings.Compare(a3, b3); c != 0 {
		return c
	}
	return a4 - b4
}
