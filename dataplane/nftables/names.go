package nftables

import (
	"crypto/sha256"
	"encoding/base32"
	"net/netip"
	"strconv"
	"strings"
)

// Chain and set name prefixes kube-proxy puts in front of a hashed base name.
const (
	PrefixService  = "service-"
	PrefixLocal    = "local-"
	PrefixExternal = "external-"
	PrefixEndpoint = "endpoint-"
	PrefixAffinity = "affinity-"
	PrefixFirewall = "firewall-"
)

// nameLengthMax is knftables.NameLengthMax (256) minus the longest prefix
// kube-proxy reserves (16): base names are cut to this length.
const nameLengthMax = 240

// PortName identifies one port of a Service the way kube-proxy names it:
// namespace, service name, lower-case protocol and the port's name (which may
// be empty for a single unnamed port).
type PortName struct {
	Namespace string
	Name      string
	Protocol  string // "tcp", "udp" or "sctp"
	Port      string // ServicePort.Name, possibly ""
}

// String is "ns/name/proto/port", the text that is hashed for chain names.
func (p PortName) String() string {
	return p.Namespace + "/" + p.Name + "/" + strings.ToLower(p.Protocol) + "/" + p.Port
}

// Display is the "ns/name:port" form kube-proxy uses in element comments
// (the ":port" part is omitted for an unnamed port).
func (p PortName) Display() string {
	if p.Port == "" {
		return p.Namespace + "/" + p.Name
	}
	return p.Namespace + "/" + p.Name + ":" + p.Port
}

// H8 returns the first 8 characters of base32(sha256(s)), the hash kube-proxy
// puts in front of its per-service and per-endpoint names.
func H8(s string) string {
	sum := sha256.Sum256([]byte(s))
	return base32.StdEncoding.EncodeToString(sum[:])[:8]
}

// hashAndTruncate builds "H8-name" and cuts it to 240 characters, ending in
// "..." when cut, as kube-proxy does.
func hashAndTruncate(name string) string {
	out := H8(name) + "-" + name
	if len(out) > nameLengthMax {
		out = out[:nameLengthMax-3] + "..."
	}
	return out
}

// ServiceBase is the hashed base name of a service port, e.g.
// "ULMVA6XW-ns1/svc1/tcp/p80"; prepend one of the Prefix constants.
func ServiceBase(p PortName) string {
	return hashAndTruncate(p.String())
}

// EndpointBase is the hashed base name of one endpoint of a service port,
// e.g. "5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80". IPv6 colons become dots
// because nftables names cannot contain colons.
func EndpointBase(p PortName, ep netip.AddrPort) string {
	ip := strings.ReplaceAll(ep.Addr().Unmap().String(), ":", ".")
	return hashAndTruncate(p.String() + "__" + ip + "/" + strconv.Itoa(int(ep.Port())))
}

// ServiceChain, ExternalChain, LocalChain, FirewallChain, EndpointChain and
// AffinitySet return the full object names kube-proxy uses.
func ServiceChain(p PortName) string  { return PrefixService + ServiceBase(p) }
func ExternalChain(p PortName) string { return PrefixExternal + ServiceBase(p) }
func LocalChain(p PortName) string    { return PrefixLocal + ServiceBase(p) }
func FirewallChain(p PortName) string { return PrefixFirewall + ServiceBase(p) }
func EndpointChain(p PortName, ep netip.AddrPort) string {
	return PrefixEndpoint + EndpointBase(p, ep)
}
func AffinitySet(p PortName, ep netip.AddrPort) string {
	return PrefixAffinity + EndpointBase(p, ep)
}
