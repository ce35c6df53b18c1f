package dataplane

// Listing is one chain (or IPVS virtual server, or set of elements) of a
// node's rules that concerns a Service, as a reader is shown it.
type Listing struct {
	Table string     `json:"table,omitempty"`
	Name  string     `json:"name"`
	Rules []RuleLine `json:"rules"`
	// Drift is a finding ID when the chain differs from what is expected.
	Drift DiffKind `json:"drift,omitempty"`
	// ServicePort is the Service port the chain serves, as packets name it
	// ("ns/name:port"); empty for chains every port shares.
	ServicePort string `json:"servicePort,omitempty"`
	// Kind says what the listing holds.
	Kind ListingKind `json:"kind,omitempty"`
	// Where is the listing's place: readers find a Diff's chain by it.
	Where Locator `json:"where,omitzero"`
}

// ListingKind says what a listing holds.
type ListingKind string

// The kinds of listings.
const (
	// ListingChain is an iptables or nftables chain.
	ListingChain ListingKind = ""
	// ListingVirtualServer is an IPVS virtual server and its real servers.
	ListingVirtualServer ListingKind = "virtualServer"
	// ListingAddresses is the addresses bound to kube-ipvs0.
	ListingAddresses ListingKind = "addresses"
	// ListingElements is nftables set and map elements that differ.
	ListingElements ListingKind = "elements"
)

// RuleLine is one line of a listing with its line in the dump (0 for
// generated rules).
type RuleLine struct {
	Line  int      `json:"line,omitempty"`
	Text  string   `json:"text"`
	Drift DiffKind `json:"drift,omitempty"`
	// Kind says what the line is, so readers need not read its text.
	Kind LineKind `json:"kind,omitempty"`
	// Where is the line's place: a Diff's Locator is matched against it.
	Where Locator `json:"where,omitzero"`
}

// LineKind says what a listing line is.
type LineKind string

// The kinds of lines.
const (
	// LineRule is a rule (or element, or bound address) the node has.
	LineRule LineKind = ""
	// LineMissing is a rule the node lacks, listed to carry its drift mark.
	LineMissing LineKind = "missing"
	// LineHeading heads a listing (an IPVS virtual server's own line).
	LineHeading LineKind = "heading"
	// LineMember is an IPVS real server of the listing's virtual server.
	LineMember LineKind = "realServer"
)
