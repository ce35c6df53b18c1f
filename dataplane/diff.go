package dataplane

import "net/netip"

// DiffKind names a kind of difference between the rules kube-proxy should
// have written and a node's; it is the stable ID of the finding the trace
// reports for it (trace.Catalog).
type DiffKind string

// Diff is one way a node's dataplane differs from what kube-proxy should
// have programmed, with its place precise enough to show it in a listing
// or to repair it.
type Diff struct {
	Kind  DiffKind
	Where Locator
	// Expected is what belongs at Where, in the mode's own syntax (a rule,
	// a map element's value, a scheduler); empty when nothing should be
	// there or what should has no value of its own (a chain, a set
	// element, a bound address: Kind and the facts below say which).
	Expected string
	// ExpectedLine is Expected's line in the expected rendering (iptables),
	// 0 elsewhere.
	ExpectedLine int
	// Actual is what the node has at Where, likewise; empty when it has
	// nothing or nothing with a value.
	Actual string

	// The facts below say what the difference means; the sentence a reader
	// is shown is made from them where text is rendered. Which are set
	// depends on Kind.

	// Whole says Where names a whole chain (its declaration), not one of
	// its rules.
	Whole bool
	// Skipped says the Service is one kube-proxy does not handle (labelled
	// service-proxy-name or headless), so whatever the node holds for it is
	// stale.
	Skipped bool
	// Service names the Service port concerned: kube-proxy's comment on the
	// rule (iptables), or the port as "ns/name:port".
	Service string
	// Role is the virtual server's role for the Service port (IPVS:
	// "cluster IP", "node port", ...).
	Role string
	// Target is where the node's rule sends packets: a chain, a verdict
	// (REJECT, DROP) or a DNAT destination; WantTarget is where kube-proxy's
	// sends them. TargetMissing says the chain Target names does not exist.
	Target, WantTarget string
	TargetMissing      bool
	// TargetEndpoint is the endpoint the chain Target (or, for a Whole
	// diff, the chain at Where) DNATs to, as its rule writes it; empty when
	// it has no DNAT rule.
	TargetEndpoint string
	// Share is the share of new connections the node's rules give Target,
	// WantShare kube-proxy's.
	Share, WantShare float64
	// Weight is a real server's weight on the node, WantWeight kube-proxy's.
	Weight, WantWeight int
	// Missing are the numgen values without a map element, out of Of;
	// Lost is the share of new connections they leave untranslated.
	Missing []string
	Of      int
	Lost    float64
	// Packet is the packet whose walks differ (WalkOutcomeDiffers): Target
	// is the outcome ("DNAT 10.244.1.7:9376", "REJECT"), Share and
	// WantShare its probability through the node's rules and kube-proxy's,
	// Masquerade and WantMasquerade whether each masquerades it.
	Packet                     *Packet
	Masquerade, WantMasquerade bool
}

// WalkOutcomeDiffers is the kind of difference, in every mode, between
// what a packet meets in a node's rules and in the rules kube-proxy should
// write, reported where the node's rules are compared by behaviour (a
// layout of a release the trace does not generate).
const WalkOutcomeDiffers DiffKind = "WalkOutcomeDiffers"

// Locator is a place in a node's dataplane. Which fields are set depends
// on Mode; unset fields are zero.
type Locator struct {
	Mode Mode `json:"mode"`
	// Family is the IP family: IPv4 or IPv6 (iptables, IPVS), ip or ip6
	// (nftables).
	Family string `json:"family,omitempty"`
	// Table is the iptables table (nat, filter) or the nftables table
	// (kube-proxy).
	Table string `json:"table,omitempty"`
	// Chain is the iptables or nftables chain; for IPVS the virtual server
	// as its listing names it ("10.96.0.10:53/UDP", "FWM:5").
	Chain string `json:"chain,omitempty"`
	// Line is the rule's line in the node's dump (iptables-save, a text nft
	// listing); 0 for a rule the node lacks.
	Line int `json:"line,omitempty"`
	// Handle is the nftables rule handle.
	Handle int `json:"handle,omitempty"`
	// Set is an nftables set or map, Element the key of one of its
	// elements, one string per concatenated field.
	Set     string   `json:"set,omitempty"`
	Element []string `json:"element,omitempty"`
	// Protocol, Service and FWMark name an IPVS virtual server or the
	// service address of a conntrack flow.
	Protocol string         `json:"protocol,omitempty"`
	Service  netip.AddrPort `json:"service,omitzero"`
	FWMark   uint32         `json:"fwmark,omitempty"`
	// Endpoint is a DNAT target, an IPVS real server, or the backend of a
	// conntrack flow.
	Endpoint netip.AddrPort `json:"endpoint,omitzero"`
	// Address is an address to bind to kube-ipvs0, or the client of a
	// conntrack flow.
	Address netip.Addr `json:"address,omitzero"`
}

// IsZero reports whether the locator names no place.
func (l Locator) IsZero() bool { return l.Mode == "" }
