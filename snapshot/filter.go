package snapshot

import (
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Filter keeps a snapshot to one Service, so a node with thousands of
// Services sends only what a trace of this one reads.
type Filter struct {
	// Service is "namespace/name", as kube-proxy writes it in comments and
	// nftables chain names.
	Service string `json:"service"`
	// Addresses are the Service's cluster, external and load-balancer IPs.
	Addresses []netip.Addr `json:"addresses,omitempty"`
	// NodePorts are the Service's node ports (and health-check node port).
	NodePorts []uint16 `json:"nodePorts,omitempty"`
}

// ParseFilter builds a Filter from flag values: the Service as
// namespace/name, and comma-separated addresses and ports.
func ParseFilter(service, addrs, ports string) (*Filter, error) {
	ns, name, ok := strings.Cut(service, "/")
	if !ok || ns == "" || name == "" || strings.Contains(name, "/") {
		return nil, fmt.Errorf("bad Service %q: use namespace/name", service)
	}
	f := &Filter{Service: service}
	for a := range strings.SplitSeq(addrs, ",") {
		if a = strings.TrimSpace(a); a == "" {
			continue
		}
		ip, err := netip.ParseAddr(a)
		if err != nil {
			return nil, fmt.Errorf("bad Service address %q: use IP addresses separated by commas", a)
		}
		f.Addresses = append(f.Addresses, ip)
	}
	for p := range strings.SplitSeq(ports, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		n, err := strconv.ParseUint(p, 10, 16)
		if err != nil || n == 0 {
			return nil, fmt.Errorf("bad node port %q: use port numbers separated by commas", p)
		}
		f.NodePorts = append(f.NodePorts, uint16(n))
	}
	return f, nil
}

// hasAddr reports whether a is one of the Service's addresses.
func (f *Filter) hasAddr(a netip.Addr) bool { return slices.Contains(f.Addresses, a.Unmap()) }

func (f *Filter) hasPort(p uint64) bool {
	return p <= 0xffff && slices.Contains(f.NodePorts, uint16(p))
}

// serviceRef matches the Service reference kube-proxy puts at the start of
// a comment: "ns/name", "ns/name:port" or "ns/name:port cluster IP".
var serviceRef = regexp.MustCompile(`^"?([a-z0-9][-a-z0-9]*)/([a-z0-9][-a-z0-9.]*)(?::|\s|"|$)`)

// commentService returns the "ns/name" a kube-proxy comment names, or "".
func commentService(comment string) string {
	m := serviceRef.FindStringSubmatch(comment)
	if m == nil {
		return ""
	}
	return m[1] + "/" + m[2]
}
