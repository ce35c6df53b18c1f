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
package expected
