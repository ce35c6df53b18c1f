package expected

import (
	"slices"
	"strings"
)

// Topology modes chosen from EndpointSlice hints.
const (
	topoNone     = ""
	topoSameNode = "PreferSameNode"
	topoSameZone = "PreferSameZone"
)

// categorize mirrors proxy.CategorizeEndpoints: the endpoints of the
// Cluster and Local policies (ready ones, else serving-terminating ones,
// chosen separately for each), all endpoints reachable from this node, and
// whether any endpoint in the cluster is usable.
func categorize(c *nodeConfig, sp *ServicePort) (cluster, local, reachable []*endpointInfo, any bool) {
	eps := sp.all
	if len(eps) == 0 {
		return nil, nil, nil, false
	}
	topo := topoNone
	if sp.usesClusterEndpoints() {
		topo = topologyMode(eps, c.name, c.zone)
		cluster = filter(eps, func(e *endpointInfo) bool { return e.ready && availableFor(e, topo, c) })
		if len(cluster) == 0 {
			cluster = filter(eps, func(e *endpointInfo) bool { return e.serving && e.termin })
		}
		any = len(cluster) > 0
	}
	if !sp.usesLocalEndpoints() {
		return cluster, nil, cluster, any
	}
	var localReady, localTerminating bool
	for _, e := range eps {
		if e.ready {
			any = true
			localReady = localReady || e.local
		} else if e.serving && e.termin {
			any = true
			localTerminating = localTerminating || e.local
		}
	}
	usesTerminating := false
	switch {
	case localReady:
		local = filter(eps, func(e *endpointInfo) bool { return e.local && e.ready })
	case localTerminating:
		usesTerminating = true
		local = filter(eps, func(e *endpointInfo) bool { return e.local && e.serving && e.termin })
	}
	if !sp.usesClusterEndpoints() {
		return nil, local, local, any
	}
	if topo == topoNone && !usesTerminating {
		return cluster, local, cluster, any
	}
	return cluster, local, union(cluster, local), any
}

// union merges two endpoint lists. kube-proxy builds it from a map, so its
// order is random; sorting by address keeps the output stable.
func union(a, b []*endpointInfo) []*endpointInfo {
	seen := make(map[string]*endpointInfo, len(a)+len(b))
	for _, e := range a {
		seen[e.addr] = e
	}
	for _, e := range b {
		seen[e.addr] = e
	}
	out := make([]*endpointInfo, 0, len(seen))
	for _, e := range seen {
		out = append(out, e)
	}
	slices.SortFunc(out, func(x, y *endpointInfo) int { return strings.Compare(x.addr, y.addr) })
	return out
}

func filter(eps []*endpointInfo, keep func(*endpointInfo) bool) []*endpointInfo {
	out := make([]*endpointInfo, 0, len(eps))
	for _, e := range eps {
		if keep(e) {
			out = append(out, e)
		}
	}
	return out
}

// topologyMode follows topologyModeFromHints with PreferSameTrafficDistribution
// enabled (locked on since v1.35).
func topologyMode(eps []*endpointInfo, node, zone string) string {
	anyReady, forNode, allNode, forZone, allZone := false, false, true, false, true
	for _, e := range eps {
		if !e.ready {
			continue
		}
		anyReady = true
		if len(e.nodeHints) == 0 {
			allNode = false
		} else if e.nodeHints[node] {
			forNode = true
		}
		if len(e.zoneHints) == 0 {
			allZone = false
		} else if e.zoneHints[zone] {
			forZone = true
		}
	}
	switch {
	case !anyReady:
		return topoNone
	case allNode && forNode:
		return topoSameNode
	case allZone && forZone:
		return topoSameZone
	}
	return topoNone
}

func availableFor(e *endpointInfo, topo string, c *nodeConfig) bool {
	switch topo {
	case topoSameNode:
		return e.nodeHints[c.name]
	case topoSameZone:
		return e.zoneHints[c.zone]
	}
	return true
}
