package trace

import (
	"net/netip"
	"time"

	"github.com/svctrace/kubectl-svctrace/dataplane"
	"github.com/svctrace/kubectl-svctrace/dataplane/conntrack"
	"github.com/svctrace/kubectl-svctrace/dataplane/iptables"
	"github.com/svctrace/kubectl-svctrace/dataplane/ipvs"
	"github.com/svctrace/kubectl-svctrace/dataplane/nftables"
)

// DataplaneInput is one node's view: its facts and the dumps read from it.
// Without any dump the trace still shows the iptables rules kube-proxy
// should program, walked like a real dump.
type DataplaneInput struct {
	// Node names whose view this is; empty picks the first node of the trace.
	Node string
	// NodeIPs are the node's addresses; empty uses the Node's InternalIP.
	NodeIPs []netip.Addr
	// ClusterCIDR is kube-proxy's --cluster-cidr (local-traffic detector);
	// invalid means: infer it from the iptables dump, else none.
	ClusterCIDR netip.Prefix

	// From is where the packet enters; zero places it by FromIP (a node
	// address enters from the node, one outside the cluster CIDR from
	// outside, anything else from a pod).
	From dataplane.Entry
	// FromIP is the packet's source; invalid picks one that fits From.
	FromIP netip.Addr
	// Port limits the walks to one Service port (name or number).
	Port string
	// EveryEntry adds walks from the other entries (pod, node, external)
	// after those from From, so a reader can choose the packet.
	EveryEntry bool

	IPTables     *iptables.Dump
	IPTablesName string
	// IPTablesSavedAt is when iptables-save wrote the dump, from its header.
	IPTablesSavedAt string
	// IPTables6 is the ip6tables-save dump of a dual-stack node, given
	// beside IPTables (which holds either family's rules: its family is
	// read from its rules).
	IPTables6        *iptables.Dump
	IPTables6Name    string
	IPTables6SavedAt string
	// SavedAt is when the dumps were taken, when known: a snapshot's time,
	// or an iptables-save header's read as UTC (SavedAtGuessed). Zero
	// when unknown. Objects that changed later explain differences.
	SavedAt        time.Time
	SavedAtGuessed bool
	NFT            *nftables.Ruleset
	NFTName        string
	IPVS           *ipvs.Table
	IPVSName       string
	// IPVSLocal are the node's local addresses (kube-ipvs0's among them);
	// IPVSLocalName is set when they were given.
	IPVSLocal     []netip.Addr
	IPVSLocalName string
	Conntrack     []conntrack.Entry
	// ConntrackName is set when a conntrack dump was given (it may be empty).
	ConntrackName string

	// Skipped are lines read before a dump's own output and left out.
	Skipped []SkippedLines
}
