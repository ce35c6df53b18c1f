package expected

import (
	discoveryv1 "k8s.io/api/discovery/v1"

	"github.com/svctrace/kubectl-svctrace/dataplane/endpoints"
)

// endpointInfo is kube-proxy's BaseEndpointInfo plus the iptables chain
// name and the text forms the rules print.
type endpointInfo struct {
	endpoints.Endpoint
	ip, addr, chain string
	port            int
}

// attachEndpoints fills in every service port's endpoints from the
// EndpointSlices, read as kube-proxy's EndpointSliceCache reads them and
// sorted by "ip:port" as a string.
func attachEndpoints(c *nodeConfig, byKey map[portKey]*ServicePort, eps []*discoveryv1.EndpointSlice) {
	for key, list := range endpoints.ReadAll(eps, c.ipv6, c.name) {
		sp := byKey[portKey{key.Namespace, key.Service, key.Port, key.Protocol}]
		if sp == nil {
			continue
		}
		sp.all = make([]*endpointInfo, len(list))
		for i, e := range list {
			info := &endpointInfo{
				Endpoint: *e,
				ip:       e.AddrPort.Addr().String(),
				addr:     e.String(),
				port:     int(e.AddrPort.Port()),
			}
			info.chain = EndpointChain(sp.ID, sp.Protocol, info.addr)
			sp.all[i] = info
		}
	}
}

// categorize sorts a port's endpoints into the sets kube-proxy programs on
// this node.
func categorize(c *nodeConfig, sp *ServicePort) (cluster, local, reachable []*endpointInfo, any bool) {
	s := endpoints.Categorize(sp.all, endpoints.Policy{
		UsesCluster: sp.usesClusterEndpoints(), UsesLocal: sp.usesLocalEndpoints(),
		Node: c.name, Zone: c.zone,
	})
	return s.Cluster, s.Local, s.Reachable, s.Any
}
