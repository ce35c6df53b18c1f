package trace

// DataplaneHop is what one node's proxy does with the Service: the rules it
// programmed (or, without a dump, the rules kube-proxy should program), and
// where a packet to each Service port ends up.
type DataplaneHop struct {
	Node string `json:"node"`
	// Mode is iptables, nftables or ipvs.
	Mode string `json:"mode"`
	// Family is the IP family of the iptables view (IPv4 or IPv6).
	Family string `json:"family,omitempty"`
	// Source says where the rules came from: "expected" when generated from
	// the API objects, else the dump's name.
	Source string `json:"source"`
	// SavedAt is when the dump was taken, when it says so.
	SavedAt string         `json:"savedAt,omitempty"`
	Walks   []PacketWalk   `json:"walks"`
	Chains  []ChainListing `json:"chains"`
	// Note says why Walks is empty, e.g. no entry point for --from external.
	Note string `json:"note,omitempty"`
	// NodeNote says how Node was chosen when no --node named it.
	NodeNote string `json:"nodeNote,omitempty"`
}

// PacketWalk is one packet followed through the rules.
type PacketWalk struct {
	Packet Packet `json:"packet"`
	// Outcomes is the distribution over final verdicts; probabilities sum
	// to 1, except that ClientIP affinity adds, for each endpoint, an
	// outcome of probability 1 whose Note says the client is already
	// pinned to that endpoint.
	Outcomes []Outcome `json:"outcomes"`
	// Steps are the rules visited: first the path all outcomes share
	// (Branch 0), then each outcome's own remainder in outcome order
	// (Branch i+1 for Outcomes[i]).
	Steps []WalkStep `json:"steps"`
}

// Packet describes the packet walked.
type Packet struct {
	Protocol string `json:"protocol"`
	Source   string `json:"source"`
	Dest     string `json:"destination"`
	Port     int32  `json:"port"`
	// From is pod, node or external.
	From string `json:"from"`
	// ServicePort names the Service port the packet targets.
	ServicePort string `json:"servicePort"`
}

// Outcome is one final verdict with its probability and the chains passed.
type Outcome struct {
	// Verdict is DNAT, REJECT, DROP or ACCEPT (left unchanged).
	Verdict     string  `json:"verdict"`
	Target      string  `json:"target,omitempty"`
	Probability float64 `json:"probability"`
	// Path is the chain path that decided the verdict, e.g.
	// "KUBE-SERVICES → KUBE-SVC-… → KUBE-SEP-… (33.3%) → DNAT 10.244.1.7:9376".
	Path       string   `json:"path"`
	Chains     []string `json:"chains"`
	Masquerade bool     `json:"masquerade,omitempty"`
	// Note explains a branch that was assumed, e.g. an affinity hit.
	Note string `json:"note,omitempty"`
	// Affinity is "sticky" for the path of a client ClientIP affinity has
	// already pinned (an alternative to the fresh paths, not a share of
	// them), "fresh" for a client not pinned yet, empty without affinity.
	Affinity string `json:"affinity,omitempty"`
	// Assumptions are the matches the walk could not evaluate and took one
	// side of; outcomes with different assumptions are alternatives.
	Assumptions []string `json:"assumptions,omitempty"`
	// NotEndpoint is set when the DNAT target is not a current endpoint of
	// the Service: traffic goes somewhere it should not.
	NotEndpoint bool `json:"notEndpoint,omitempty"`
}

// WalkStep is one rule evaluated during a walk.
type WalkStep struct {
	Table   string `json:"table,omitempty"`
	Chain   string `json:"chain"`
	Line    int    `json:"line,omitempty"`
	Rule    string `json:"rule"`
	Matched bool   `json:"matched"`
	// Probability is the chance of reaching this step.
	Probability float64 `json:"probability"`
	Note        string  `json:"note,omitempty"`
	// Branch is 0 on the shared path, else 1 + the index of the outcome
	// whose own path the step is on.
	Branch int `json:"branch"`
}

// ChainListing is one chain of the rule set that concerns the Service.
type ChainListing struct {
	Table string     `json:"table,omitempty"`
	Name  string     `json:"name"`
	Rules []RuleLine `json:"rules"`
	// Drift is a finding ID when the chain differs from what is expected.
	Drift string `json:"drift,omitempty"`
	// ServicePort is the Service port the chain serves, as packets name it
	// ("ns/name:port"); empty for chains every port shares.
	ServicePort string `json:"servicePort,omitempty"`
}

// RuleLine is one rule with its line in the dump (0 for generated rules).
type RuleLine struct {
	Line  int    `json:"line,omitempty"`
	Text  string `json:"text"`
	Drift string `json:"drift,omitempty"`
}

// DNSHop is what the Service's names should resolve to and what they did.
type DNSHop struct {
	Server string     `json:"server,omitempty"`
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
