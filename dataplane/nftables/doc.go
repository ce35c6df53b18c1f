// Package nftables models kube-proxy's nftables mode (GA since v1.33):
// it parses `nft -j list ruleset`, walks a packet through the tables with
// endpoint probabilities, computes what kube-proxy should have written for
// a Service, and reports the drift between the two.
//
// Both layouts seen on real nodes are understood:
//
//   - v1.37 (LayoutV137): a service without ClientIP affinity DNATs in its
//     own chain, `meta l4proto tcp dnat to 10.180.0.1:80` for one endpoint
//     or `dnat ip to numgen random mod N map { 0 : ip . port, ... }` for
//     several; affinity services keep endpoint-<H8>-... chains reached via
//     `numgen random mod N vmap { 0 : goto endpoint-..., ... }`.
//   - v1.29-v1.35 (LayoutLegacy): an endpoint chain for every endpoint, each
//     masquerading hairpin traffic through the mark-for-masquerade chain, and
//     no hairpin-connections set.
//
// DetectLayout tells them apart from a node's table, and the Proxier's
// Drift compares a table with the expectation in its own layout, so a node
// run by kube-proxy v1.34 or v1.35 in sync has no drift. A table of neither
// layout (LayoutUnknown) is compared by what packets meet in it: the
// elements that dispatch them and the endpoints each chain reaches.
//
// The upstream source (k8s.io/kubernetes pkg/proxy/nftables/proxier.go,
// v1.37.2) is the reference for names and rule shapes: chain names are
// "<prefix><H8>-ns/svc/proto/port[__ip/port]" with H8 the first 8
// characters of base32(sha256(name)).
//
// Main entry points:
//
//	ParseJSON(r) (*Ruleset, error)              parse nft JSON
//	Walk(rs, pkt, opts) ([]Outcome, error)      packet walk with probabilities
//	Expected(svc, slices, opts)                 what kube-proxy writes for a Service
//	Want.Objects() []knftables.Object           the whole table, as kube-proxy v1.37 writes it
//	RulesetOf(family, objs) (*Ruleset, error)   those objects as nft lists them (Materialize)
//	ParseRule(family, text) ([]Stmt, error)     one rule as kube-proxy sends it, as nft lists it
//	(*Table).Dump() string                      a table in a stable order, handles aside
//	Drift(expected, table) []dataplane.Diff     expected vs actual
//	ChainTargets(table, chain)                  DNAT targets of a chain
//	Proxier                                     the nftables mode's dataplane.Proxier
package nftables
