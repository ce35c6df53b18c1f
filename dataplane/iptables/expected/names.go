package expected

import (
	"crypto/sha256"
	"encoding/base32"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// Chain name prefixes of the per-service chains.
const (
	PrefixCluster  = "KUBE-SVC-"
	PrefixLocal    = "KUBE-SVL-"
	PrefixExternal = "KUBE-EXT-"
	PrefixFirewall = "KUBE-FW-"
	PrefixEndpoint = "KUBE-SEP-"
)

// Top-level chains kube-proxy owns.
const (
	ChainServices         = "KUBE-SERVICES"
	ChainExternalServices = "KUBE-EXTERNAL-SERVICES"
	ChainNodePorts        = "KUBE-NODEPORTS"
	ChainPostrouting      = "KUBE-POSTROUTING"
	ChainMarkMasq         = "KUBE-MARK-MASQ"
	ChainForward          = "KUBE-FORWARD"
	ChainProxyFirewall    = "KUBE-PROXY-FIREWALL"
	ChainFirewall         = "KUBE-FIREWALL"
	ChainCanary           = "KUBE-PROXY-CANARY"
)

// Hash16 is kube-proxy's chain-name hash: the first 16 characters of the
// base32 (standard alphabet) encoding of sha256(s). iptables chain names are
// limited to 28 characters, which is why the hash is cut short.
func Hash16(s string) string {
	return hash16(s)
}

// hash16 hashes the concatenation of parts without building it on the
// heap; chain names are computed for every endpoint of the cluster.
func hash16(parts ...string) string {
	var stack [256]byte
	buf := stack[:0]
	for _, p := range parts {
		buf = append(buf, p...)
	}
	sum := sha256.Sum256(buf)
	var enc [56]byte
	base32.StdEncoding.Encode(enc[:], sum[:])
	return string(enc[:16])
}

// PortName is the service port string kube-proxy uses in chain hashes and
// comments: "ns/name:port", or "ns/name" when the port has no name.
func PortName(namespace, name, port string) string {
	if port == "" {
		return namespace + "/" + name
	}
	return namespace + "/" + name + ":" + port
}

func protoString(p corev1.Protocol) string {
	return strings.ToLower(string(p))
}

// Chains holds the names of a service port's chains and which of them
// kube-proxy creates. Names are always filled in; a chain whose Uses flag is
// false does not exist on the node.
type Chains struct {
	Cluster  string // KUBE-SVC-…: endpoints for "Cluster" traffic policy
	Local    string // KUBE-SVL-…: node-local endpoints for "Local" traffic policy
	External string // KUBE-EXT-…: entry for NodePort, external and load-balancer IPs
	Firewall string // KUBE-FW-…: loadBalancerSourceRanges filter

	UsesCluster, UsesLocal, UsesExternal, UsesFirewall bool
}

// ChainNames returns the chain names of a service port, given its PortName
// string and protocol. The Uses flags are left false.
func ChainNames(portName string, protocol corev1.Protocol) Chains {
	h := hash16(portName, protoString(protocol))
	return Chains{
		Cluster:  PrefixCluster + h,
		Local:    PrefixLocal + h,
		External: PrefixExternal + h,
		Firewall: PrefixFirewall + h,
	}
}

// EndpointChain returns the KUBE-SEP chain name of one endpoint of a service
// port; endpoint is "ip:port" ("[ip]:port" for IPv6).
func EndpointChain(portName string, protocol corev1.Protocol, endpoint string) string {
	return PrefixEndpoint + hash16(portName, protoString(protocol), endpoint)
}

// IsServiceChain reports whether chain is one kube-proxy writes for a single
// Service port (KUBE-SVC/SVL/EXT/FW/SEP-…), as opposed to a shared chain.
func IsServiceChain(chain string) bool {
	for _, p := range []string{PrefixCluster, PrefixLocal, PrefixExternal, PrefixFirewall, PrefixEndpoint} {
		if strings.HasPrefix(chain, p) {
			return true
		}
	}
	return false
}
