package trace

import (
	"slices"
	"strings"

	"github.com/svctrace/kubectl-svctrace/dataplane"
)

// unserved is why kube-proxy has no endpoint for a packet.
type unserved int

const (
	// noEndpoints: the Service port has no usable endpoint on any node.
	noEndpoints unserved = iota
	// noLocalInternal: internalTrafficPolicy Local, none on this node;
	// clients in the cluster (pods, the node) to the cluster IP.
	noLocalInternal
	// noLocalExternal: externalTrafficPolicy Local, none on this node;
	// clients outside the cluster to a node port, external or LB IP.
	noLocalExternal
)

// clientSees says what a client meets in one proxy mode, as kube-proxy
// v1.37 writes it (pkg/proxy/{iptables,nftables,ipvs}/proxier.go): the
// iptables and nftables proxiers REJECT a Service without endpoints and
// DROP traffic a Local policy leaves without a local endpoint; the IPVS
// proxier leaves the virtual server without real servers, and the kernel
// (ip_vs_leave) answers ICMP port unreachable.
func clientSees(mode dataplane.Mode, why unserved) string {
	switch {
	case mode == dataplane.ModeIPVS && why == noEndpoints:
		return "connection refused (IPVS: the virtual server has no real server and the kernel answers ICMP port unreachable)"
	case mode == dataplane.ModeIPVS:
		return "connection refused (IPVS: the node's virtual server holds only local real servers, none here, and the kernel answers ICMP port unreachable)"
	case mode == dataplane.ModeNFTables && why == noEndpoints:
		return "connection refused (nftables: the no-endpoint-services or no-endpoint-nodeports map sends it to the reject chain)"
	case mode == dataplane.ModeNFTables:
		return "a timeout (nftables: the no-endpoint-services or no-endpoint-nodeports map's verdict is drop)"
	case why == noEndpoints:
		return `connection refused (iptables: a "has no endpoints" rule in filter KUBE-SERVICES, or KUBE-EXTERNAL-SERVICES for node ports and external addresses, REJECTs it)`
	}
	return `a timeout (iptables: a "has no local endpoints" rule in filter KUBE-SERVICES or KUBE-EXTERNAL-SERVICES DROPs it)`
}

// clientsSee says what clients meet in the proxy modes of the trace's node
// dumps, or, with none, in the modes kube-proxy may run.
func clientsSee(t *Trace, why unserved) string {
	var modes []dataplane.Mode
	for _, h := range t.Dataplane {
		m := dataplane.Mode(h.Mode)
		if h.Source != "expected" && !slices.Contains(modes, m) {
			modes = append(modes, m)
		}
	}
	if len(modes) == 0 {
		if why == noEndpoints {
			return "connection refused in every mode (iptables and nftables REJECT it; IPVS has no real server, and the kernel answers ICMP port unreachable)"
		}
		return "a timeout in iptables and nftables mode (kube-proxy DROPs it), connection refused in IPVS mode (no local real server: the kernel answers ICMP port unreachable)"
	}
	parts := make([]string, len(modes))
	for i, m := range modes {
		parts[i] = clientSees(m, why)
	}
	return strings.Join(parts, "; ")
}
