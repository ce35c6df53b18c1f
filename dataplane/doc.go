// Package dataplane is the vocabulary the proxy modes (iptables, nftables,
// IPVS), the trace and the terminal UI share: where a packet enters a
// node's rules (Entry), the packet walked (Packet), what a walk found
// (Walk, Step, Outcome), how a node's rules differ from what kube-proxy
// should have written (Diff, with its place as a Locator), and the chain
// listings shown to a reader (Listing, RuleLine).
//
// Each mode implements Proxier; the trace holds one adapter over it and
// `--serve` programs and reconciles through it. The package holds data
// and no sentences: text is made where it is rendered.
package dataplane
