package probe

import (
	"net/netip"

	"github.com/svctrace/kubectl-svctrace/dns"
)

// Kind says what a target address is.
type Kind string

const (
	KindClusterIP  Kind = "clusterIP"
	KindEndpoint   Kind = "endpoint"
	KindNodePort   Kind = "nodePort"
	KindExternalIP Kind = "externalIP"
)

// Target is one address to connect to.
type Target struct {
	Kind Kind `json:"kind"`
	// Port is the Service port the target serves, by name or number.
	Port string         `json:"port"`
	Addr netip.AddrPort `json:"addr"`
	// Protocol is TCP or UDP (SCTP is not probed).
	Protocol string `json:"protocol"`
	// HTTP asks for GET / after connecting (the port speaks HTTP).
	HTTP bool `json:"http,omitempty"`
	// Pod names the endpoint's pod (in the Service's namespace).
	Pod string `json:"pod,omitempty"`
}

// Plan is what a probe asks and connects to.
type Plan struct {
	// Questions are asked of the first nameserver of the resolver
	// configuration, as absolute names.
	Questions []dns.Question `json:"questions,omitempty"`
	// Search are names looked up through the search list, as the client's
	// resolver would: every candidate name the configuration makes of them
	// is asked (dns.ResolvConf.Candidates).
	Search     []string       `json:"search,omitempty"`
	SearchType dns.RecordType `json:"searchType,omitempty"`
	Targets    []Target       `json:"targets,omitempty"`
	// TimeoutMillis bounds each connection and each DNS exchange.
	TimeoutMillis int `json:"timeoutMillis,omitempty"`
}

// Outcome is how a connection attempt ended.
type Outcome string

const (
	// OK: the connection was accepted (TCP), a reply came back (UDP), or
	// the HTTP server answered with any status.
	OK Outcome = "ok"
	// Refused: a TCP reset or an ICMP port unreachable; nothing listens
	// there, or a REJECT rule answered.
	Refused Outcome = "refused"
	// TimedOut: no answer at all; a DROP rule, a NetworkPolicy, or an
	// address nothing routes to.
	TimedOut Outcome = "timeout"
	// Unreachable: no route to the host or network (ICMP unreachable).
	Unreachable Outcome = "unreachable"
	// NoReply: a UDP datagram went out and nothing came back, which UDP
	// cannot tell apart from a server that does not answer empty
	// datagrams.
	NoReply Outcome = "no-reply"
	// Failed: another error (reset mid-request, a broken HTTP reply).
	Failed Outcome = "error"
)

// Result is what one target did.
type Result struct {
	Target  Target  `json:"target"`
	Outcome Outcome `json:"outcome"`
	// Detail is the error text or the HTTP status line.
	Detail     string  `json:"detail,omitempty"`
	HTTPStatus int     `json:"httpStatus,omitempty"`
	Millis     float64 `json:"millis"`
}

// Answer is one DNS exchange as the probe saw it.
type Answer struct {
	Question dns.Question `json:"question"`
	Answer   *dns.Answer  `json:"answer,omitempty"`
	// Unreachable is set when the server sent nothing back; Err says why.
	Unreachable bool   `json:"unreachable,omitempty"`
	Err         string `json:"err,omitempty"`
}

// Report is everything a probe saw.
type Report struct {
	// Host is the host name where the probe ran (the pod or node).
	Host string `json:"host"`
	// ResolvConf is the resolver configuration read; nil when it could not
	// be read (ResolvConfErr).
	ResolvConf    *dns.ResolvConf `json:"resolvConf,omitempty"`
	ResolvConfErr string          `json:"resolvConfErr,omitempty"`
	// Server is the nameserver the questions went to.
	Server  string   `json:"server,omitempty"`
	Answers []Answer `json:"answers,omitempty"`
	Results []Result `json:"results,omitempty"`
}
