// Package expected computes the iptables rules kube-proxy v1.37 in iptables
// mode writes for a node, from the cluster's Services and EndpointSlices.
//
// It mirrors pkg/proxy/iptables/proxier.go (syncProxyRules) of
// kubernetes/kubernetes v1.37: the same service-port filtering, endpoint
// categorisation (ready, serving-terminating fallback, topology hints, Local
// traffic policies), chain naming, rule text and rule order. A Ruleset carries
// the result in two forms:
//
//   - RestoreInput: the text kube-proxy feeds to iptables-restore on a full
//     sync (without the "-X" lines for stale chains), plus Jumps, the rules it
//     installs separately in the built-in chains;
//   - Save: the same rules as iptables-save prints them back (addresses with
//     prefix length, header options first, MARK and recent arguments expanded,
//     probabilities rounded to the kernel's 2^-31 steps).
//
// kube-proxy walks its service map in Go map order, so the relative order of
// different services inside KUBE-SERVICES, KUBE-NODEPORTS and the filter
// chains changes from one sync to the next on a real node. This package uses
// one fixed order (namespace, name, port name, protocol); the rules of a
// single service port keep kube-proxy's exact order. Compare per service, or
// sort, when checking a live node.
//
// Typical use by a drift checker:
//
//	rs, err := expected.Generate(expected.Node{
//		Name:       "node-a",
//		IPs:        []string{"172.18.0.2"},
//		LocalMode:  expected.LocalClusterCIDR,
//		LocalValue: "10.244.0.0/16",
//		NFAcct:     true,
//	}, services, slices)
//	save, err := rs.SaveTable(expected.TableNAT) // compare with iptables-save -t nat
//	sp := rs.ServicePort("default", "web", "http", corev1.ProtocolTCP)
//	// sp.Chains, sp.ClusterEndpoints (with probabilities), sp.NoEndpoints()
//
// Not modelled: partial syncs (kube-proxy rewrites only changed services
// between full syncs, and deletes stale chains with "-X"), and rules other
// components add to the same tables. The mark defaults to "0x00004000" as
// NewProxier formats it; upstream's unit-test fake proxier uses "0x4000".
package expected
