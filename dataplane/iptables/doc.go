// Package iptables reads iptables-save output and answers questions about it
// the way netfilter would.
//
// It has three parts:
//
//   - Parse turns an iptables-save dump (or iptables-restore input such as
//     kube-proxy writes) into a Dump: tables, chains and rules whose matches and
//     targets are structured. Anything the parser does not understand is kept
//     verbatim and marked unknown, never dropped.
//   - Walk follows one packet through the nat and filter tables as the kernel
//     would, and reports every outcome (DNAT, REJECT, DROP, ACCEPT) with its
//     probability and the rules that led there.
//   - Drift compares what kube-proxy should have written for one Service with
//     what a node actually holds, and reports typed differences.
//
// The package does no I/O of its own: callers hand it text.
package iptables
