package trace

import "github.com/svctrace/kubectl-svctrace/dataplane"

// DataplaneHop is what one node's proxy does with the Service: the rules it
// programmed (or, without a dump, the rules kube-proxy should program), and
// where a packet to each Service port ends up.
type DataplaneHop struct {
	Node string `json:"node"`
	// Mode is iptables, nftables or ipvs.
	Mode string `json:"mode"`
	// Family is the IP family of the view (IPv4 or IPv6): always for
	// iptables; for nftables and IPVS, for a dual-stack or IPv6 Service.
	Family string `json:"family,omitempty"`
	// Source says where the rules came from: "expected" when generated from
	// the API objects, else the dump's name.
	Source string `json:"source"`
	// SavedAt is when the dump was taken, when it says so.
	SavedAt string              `json:"savedAt,omitempty"`
	Walks   []dataplane.Walk    `json:"walks"`
	Chains  []dataplane.Listing `json:"chains"`
	// Note says why Walks is empty, e.g. no entry point for --from external.
	Note string `json:"note,omitempty"`
	// NodeNote says how Node was chosen when no --node named it.
	NodeNote string `json:"nodeNote,omitempty"`
}

// DNSHop is what the Service's names should resolve to and what they did.
type DNSHop struct {
	Server string `json:"server,omitempty"`
	// From is where the questions were asked (--probe): pod/NS/NAME or
	// node/NAME; empty when asked from the machine running the plugin.
	From   string     `json:"from,omitempty"`
	Zone   string     `json:"zone"`
	Checks []DNSCheck `json:"checks"`
	// SearchPath is the resolver's view from a pod, when one was given.
	SearchPath *SearchPath `json:"searchPath,omitempty"`
}

// DNSCheck is one name and type with the expected and answered values.
type DNSCheck struct {
	Name     string   `json:"name"`
	Type     string   `json:"type"`
	Expected []string `json:"expected"`
	// Answered is nil when no query was made (offline).
	Answered []string `json:"answered"`
	Queried  bool     `json:"queried"`
	OK       bool     `json:"ok"`
	// Note explains an expectation that is not a fixed record set.
	Note string `json:"note,omitempty"`
}

// SearchPath is how a pod's resolver expands a name.
type SearchPath struct {
	Pod         string   `json:"pod"`
	Nameservers []string `json:"nameservers"`
	Searches    []string `json:"searches"`
	Ndots       int      `json:"ndots"`
	Query       string   `json:"query"`
	Tries       []string `json:"tries"`
	Resolves    string   `json:"resolves,omitempty"`
	// Forms is the same for each way of writing the name: short, with the
	// namespace, with .svc, and fully qualified.
	Forms []SearchForm `json:"forms"`
}

// SearchForm is what the pod's resolver makes of one way of writing the
// Service's name.
type SearchForm struct {
	Query    string   `json:"query"`
	Tries    []string `json:"tries"`
	Resolves string   `json:"resolves,omitempty"`
}
