package expected

import (
	"net"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/svctrace/kubectl-svctrace/dataplane/endpoints"
)

// parseIPSloppy parses an IP address the way kube-proxy does
// (k8s.io/utils/net.ParseIPSloppy): IPv4 octets with leading zeros are read
// as decimal, which the standard library refuses since Go 1.17.
func parseIPSloppy(s string) net.IP {
	if ip := net.ParseIP(s); ip != nil {
		return ip
	}
	a, ok := endpoints.ParseAddrSloppy(s)
	if !ok {
		return nil
	}
	return net.IP(a.AsSlice())
}

// parseCIDRSloppy is the CIDR counterpart of parseIPSloppy; the result is
// masked to its network address, as net.ParseCIDR does.
func parseCIDRSloppy(s string) (*net.IPNet, error) {
	addr, bits, ok := strings.Cut(s, "/")
	if !ok {
		return nil, &net.ParseError{Type: "CIDR address", Text: s}
	}
	ip := parseIPSloppy(addr)
	if ip == nil {
		return nil, &net.ParseError{Type: "CIDR address", Text: s}
	}
	size := 128
	if ip4 := ip.To4(); ip4 != nil && !strings.Contains(addr, ":") {
		ip, size = ip4, 32
	}
	n, err := strconv.Atoi(bits)
	if err != nil || n < 0 || n > size {
		return nil, &net.ParseError{Type: "CIDR address", Text: s}
	}
	mask := net.CIDRMask(n, size)
	return &net.IPNet{IP: ip.Mask(mask), Mask: mask}, nil
}

// familyOf reports the IP family of ip the way kube-proxy does: anything
// with an IPv4 form (including IPv4-mapped IPv6) is IPv4.
func familyOf(ip net.IP) corev1.IPFamily {
	if ip.To4() != nil {
		return corev1.IPv4Protocol
	}
	return corev1.IPv6Protocol
}

func familyOfCIDR(n *net.IPNet) corev1.IPFamily {
	if len(n.IP) == net.IPv4len {
		return corev1.IPv4Protocol
	}
	return familyOf(n.IP)
}

func isIPv6String(s string) bool {
	ip := parseIPSloppy(s)
	return ip != nil && ip.To4() == nil
}
