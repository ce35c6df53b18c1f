// Package dns answers the DNS hop of "why doesn't my Service work?".
//
// It has three parts that share one vocabulary (Record, Question, Result):
//
//   - Expect computes, without any I/O, the records CoreDNS's kubernetes
//     plugin serves for one Service, from the Service, its EndpointSlices and
//     its pods. It follows plugin/kubernetes and plugin/backend_lookup.go of
//     coredns/coredns, not the prose of the DNS specification, where they differ.
//   - Client queries a live DNS server (UDP, then TCP when the UDP answer is
//     truncated) behind the small Resolver interface; Fake is an in-memory
//     Resolver for tests and offline runs.
//   - Compare and Verify turn expected records and answers into Results with
//     stable IDs; PodResolvConf and PlanSearch reproduce what a pod's resolver
//     tries for a short name such as "hostnames" or "hostnames.default".
package dns
