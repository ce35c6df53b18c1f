package dataplane

import (
	"net"
	"net/netip"
	"strconv"
)

// Packet is one packet walked through a node's rules. Field names are part
// of the JSON/YAML output (docs/output.md).
type Packet struct {
	// Protocol is tcp, udp or sctp.
	Protocol string     `json:"protocol"`
	Source   netip.Addr `json:"source"`
	Dest     netip.Addr `json:"destination"`
	Port     uint16     `json:"port"`
	From     Entry      `json:"from"`
	// ServicePort names the Service port the packet targets, as
	// kube-proxy's comments do ("ns/name:port").
	ServicePort string `json:"servicePort"`
}

// DestString is the destination as host:port, IPv6 bracketed.
func (p Packet) DestString() string {
	return net.JoinHostPort(p.Dest.String(), strconv.Itoa(int(p.Port)))
}

// Walk is one packet followed through the rules.
type Walk struct {
	Packet Packet `json:"packet"`
	// Outcomes is the distribution over final verdicts; probabilities sum
	// to 1, except that ClientIP affinity adds, for each endpoint, an
	// outcome of probability 1 whose Note says the client is already
	// pinned to that endpoint.
	Outcomes []Outcome `json:"outcomes"`
	// Steps are the rules visited: first the path all outcomes share
	// (Branch 0), then each outcome's own remainder in outcome order
	// (Branch i+1 for Outcomes[i]).
	Steps []Step `json:"steps"`
}

// Verdict is how a walk ends.
type Verdict string

// The verdicts, as iptables names its targets.
const (
	VerdictDNAT   Verdict = "DNAT"
	VerdictReject Verdict = "REJECT"
	VerdictDrop   Verdict = "DROP"
	// VerdictAccept: the packet leaves the rules with its destination
	// unchanged.
	VerdictAccept Verdict = "ACCEPT"
)

// Affinity says which side of ClientIP session affinity an outcome is on.
type Affinity string

// The affinity sides; the zero value is a Service without affinity.
const (
	// AffinitySticky is the path of a client affinity already pinned (an
	// alternative to the fresh paths, not a share of them).
	AffinitySticky Affinity = "sticky"
	// AffinityFresh is the path of a client not pinned yet.
	AffinityFresh Affinity = "fresh"
)

// Outcome is one final verdict with its probability and the chains passed.
type Outcome struct {
	Verdict     Verdict `json:"verdict"`
	Target      string  `json:"target,omitempty"`
	Probability float64 `json:"probability"`
	// Path is the chain path that decided the verdict, e.g.
	// "KUBE-SERVICES → KUBE-SVC-… → KUBE-SEP-… (33.3%) → DNAT 10.244.1.7:9376".
	Path       string   `json:"path"`
	Chains     []string `json:"chains"`
	Masquerade bool     `json:"masquerade,omitempty"`
	// Note explains a branch that was assumed, e.g. an affinity hit.
	Note     string   `json:"note,omitempty"`
	Affinity Affinity `json:"affinity,omitempty"`
	// Assumptions are the matches the walk could not evaluate and took one
	// side of; outcomes with different assumptions are alternatives.
	Assumptions []string `json:"assumptions,omitempty"`
	// NotEndpoint is set when the DNAT target is not a current endpoint of
	// the Service: traffic goes somewhere it should not.
	NotEndpoint bool `json:"notEndpoint,omitempty"`
	// Untranslated is set when no rule translated the packet: it goes to
	// the Service address unchanged and the connection fails.
	Untranslated bool `json:"untranslated,omitempty"`
	// Observed is the split the node really made, from the kernel's
	// counters on the rule that decided this outcome; nil when the rules
	// carry no counters or none has counted a packet yet.
	Observed *Observed `json:"observed,omitempty"`
}

// Observed is what a node's counters say of one outcome.
type Observed struct {
	// Packets the deciding rule matched; for nat rules, connections; for
	// an IPVS real server, the connections it holds now (active and
	// inactive, as ipvsadm -Ln counts them).
	Packets uint64 `json:"packets"`
	// Share of the packets the outcomes' deciding rules matched together,
	// from every client of the Service port (its endpoint rules are
	// shared), to set beside the expected Probability.
	Share float64 `json:"share"`
}

// StepKind says what a step of a walk is, so readers need not read it out
// of the rule's text or note.
type StepKind string

// The kinds of steps.
const (
	// StepRule is a rule evaluated.
	StepRule StepKind = ""
	// StepPolicy is a built-in chain's policy applied at its end.
	StepPolicy StepKind = "policy"
	// StepFork is where the path splits by probability (an nftables numgen
	// map).
	StepFork StepKind = "fork"
)

// Step is one rule evaluated during a walk.
type Step struct {
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
	Branch int      `json:"branch"`
	Kind   StepKind `json:"kind,omitempty"`
	// Handle is the nftables rule handle, 0 elsewhere.
	Handle int `json:"handle,omitempty"`
}
