// Package snapshot is the node snapshot: what `kubectl-svctrace --serve
// --snapshot` reads from one node (iptables from both backends, nftables,
// IPVS, conntrack, addresses, kube-proxy's own endpoints, versions) in a
// versioned, compressed text form that survives container logs, and the
// parser that reads it back. docs/snapshot.md describes the format.
package snapshot

import (
	"time"
)

// Format names this version of the snapshot format. A reader refuses any
// other: a snapshot from a newer agent is reported, not half read.
const Format = "svctrace.dev/snapshot/v1"

// Section names. Each is one thing read from the node.
const (
	IPTablesLegacy = "iptables-legacy-save"
	IPTablesNFT    = "iptables-nft-save"
	// IPTablesDefault is plain iptables-save, read only when neither
	// backend-specific command exists on the node.
	IPTablesDefault = "iptables-save"
	// The IPv6 rules, read the same way: kube-proxy runs a proxier per
	// family on a dual-stack node.
	IP6TablesLegacy  = "ip6tables-legacy-save"
	IP6TablesNFT     = "ip6tables-nft-save"
	IP6TablesDefault = "ip6tables-save"
	NFT              = "nft"
	IPVS             = "ipvs"
	Conntrack        = "conntrack"
	Addresses        = "addresses"
	ProxyMode        = "kube-proxy-mode"
	Healthz          = "kube-proxy-healthz"
	Metrics          = "kube-proxy-metrics"
	KernelVersion    = "kernel-version"
	IPTablesVersion  = "iptables-version"
	NFTVersion       = "nft-version"
)

// Snapshot is one node's dataplane at one moment.
type Snapshot struct {
	Format string    `json:"format"`
	Node   string    `json:"node,omitempty"`
	Taken  time.Time `json:"taken"`
	// AgentVersion is the version of the binary that took the snapshot.
	AgentVersion string `json:"agentVersion,omitempty"`
	// HostRoot is the directory whose binaries were run through chroot
	// ("/host"), or empty when the agent's own binaries were used.
	HostRoot string `json:"hostRoot,omitempty"`
	// Filter is the Service the node kept the snapshot to; nil means full.
	Filter   *Filter   `json:"filter,omitempty"`
	Sections []Section `json:"sections"`
}

// Section is the output of one command or endpoint on the node.
type Section struct {
	Name string `json:"name"`
	// Source says what produced Output: the command line as run (with
	// "chroot /host" when the host's binary was used), or the URL read.
	Source string `json:"source"`
	Output string `json:"output,omitempty"`
	// Error is why the section could not be read; Output may still hold
	// what was read before the failure.
	Error string `json:"error,omitempty"`
	// Note says something the reader should know, e.g. that the filter
	// could not read the output and kept it whole.
	Note string `json:"note,omitempty"`
	// Filtered is true when Output holds only what concerns Filter.
	Filtered bool `json:"filtered,omitempty"`
	// Took is how long reading the section took.
	Took time.Duration `json:"took,omitempty"`
}

// Section returns the named section.
func (s *Snapshot) Section(name string) (Section, bool) {
	for _, sec := range s.Sections {
		if sec.Name == name {
			return sec, true
		}
	}
	return Section{}, false
}
