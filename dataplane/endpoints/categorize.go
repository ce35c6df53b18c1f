package endpoints

import (
	"slices"
	"strings"
)

// Topology modes chosen from EndpointSlice hints.
const (
	TopologyNone     = ""
	TopologySameNode = "PreferSameNode"
	TopologySameZone = "PreferSameZone"
)

// Policy is what a Service port asks of its endpoints on one node.
type Policy struct {
	// UsesCluster: some traffic uses every endpoint (internal policy
	// Cluster, or external traffic at all). UsesLocal: some traffic uses
	// only this node's endpoints (a Local policy).
	UsesCluster, UsesLocal bool
	// Node and Zone are this node's name and topology.kubernetes.io/zone
	// label, matched against the endpoints' hints.
	Node, Zone string
}

// Sets are the endpoint sets kube-proxy programs for a port.
type Sets[E interface{ Info() *Endpoint }] struct {
	// Cluster: ready endpoints (topology permitting), else the serving
	// terminating ones. Local: this node's ready endpoints, else its
	// serving terminating ones. Reachable: every endpoint some traffic may
	// reach. Any: some endpoint anywhere is usable, so traffic without
	// endpoints here is dropped rather than rejected.
	Cluster, Local, Reachable []E
	Any                       bool
	Topology                  string
}

// Categorize is kube-proxy's CategorizeEndpoints (pkg/proxy/topology.go)
// with PreferSameTrafficDistribution on, as it is since v1.35.
func Categorize[E interface{ Info() *Endpoint }](eps []E, p Policy) Sets[E] {
	var s Sets[E]
	if len(eps) == 0 {
		return s
	}
	if p.UsesCluster {
		s.Topology = topologyMode(eps, p.Node, p.Zone)
		s.Cluster = filter(eps, func(e *Endpoint) bool { return e.Ready && availableFor(e, s.Topology, p) })
		// No ready endpoint for the topology means no ready endpoint at all:
		// topologyMode already ignores hints that leave none.
		if len(s.Cluster) == 0 {
			s.Cluster = filter(eps, func(e *Endpoint) bool { return e.Serving && e.Terminating })
		}
		s.Any = len(s.Cluster) > 0
	}
	if !p.UsesLocal {
		s.Reachable = s.Cluster
		return s
	}
	var localReady, localTerminating bool
	for _, x := range eps {
		e := x.Info()
		if e.Ready {
			s.Any = true
			localReady = localReady || e.Local
		} else if e.Serving && e.Terminating {
			s.Any = true
			localTerminating = localTerminating || e.Local
		}
	}
	usesTerminating := false
	switch {
	case localReady:
		s.Local = filter(eps, func(e *Endpoint) bool { return e.Local && e.Ready })
	case localTerminating:
		usesTerminating = true
		s.Local = filter(eps, func(e *Endpoint) bool { return e.Local && e.Serving && e.Terminating })
	}
	switch {
	case !p.UsesCluster:
		s.Reachable = s.Local
	case s.Topology == TopologyNone && !usesTerminating:
		// Cluster then holds every ready endpoint, the local ones included.
		s.Reachable = s.Cluster
	default:
		s.Reachable = union(s.Cluster, s.Local)
	}
	return s
}

// union merges two endpoint lists. kube-proxy builds it from a map, so its
// order is random; sorting by address keeps the output stable.
func union[E interface{ Info() *Endpoint }](a, b []E) []E {
	seen := make(map[string]E, len(a)+len(b))
	for _, e := range a {
		seen[e.Info().String()] = e
	}
	for _, e := range b {
		seen[e.Info().String()] = e
	}
	out := make([]E, 0, len(seen))
	for _, e := range seen {
		out = append(out, e)
	}
	slices.SortFunc(out, func(x, y E) int { return strings.Compare(x.Info().String(), y.Info().String()) })
	return out
}

func filter[E interface{ Info() *Endpoint }](eps []E, keep func(*Endpoint) bool) []E {
	out := make([]E, 0, len(eps))
	for _, e := range eps {
		if keep(e.Info()) {
			out = append(out, e)
		}
	}
	return out
}

// topologyMode is topologyModeFromHints: hints are used only when every
// ready endpoint has them and at least one is for this node (or zone).
func topologyMode[E interface{ Info() *Endpoint }](eps []E, node, zone string) string {
	anyReady, forNode, allNode, forZone, allZone := false, false, true, false, true
	for _, x := range eps {
		e := x.Info()
		if !e.Ready {
			continue
		}
		anyReady = true
		if len(e.NodeHints) == 0 {
			allNode = false
		} else if e.NodeHints[node] {
			forNode = true
		}
		if len(e.ZoneHints) == 0 {
			allZone = false
		} else if e.ZoneHints[zone] {
			forZone = true
		}
	}
	switch {
	case !anyReady:
		return TopologyNone
	case allNode && forNode:
		return TopologySameNode
	case allZone && forZone:
		return TopologySameZone
	}
	return TopologyNone
}

func availableFor(e *Endpoint, topo string, p Policy) bool {
	switch topo {
	case TopologySameNode:
		return e.NodeHints[p.Node]
	case TopologySameZone:
		return e.ZoneHints[p.Zone]
	}
	return true
}
