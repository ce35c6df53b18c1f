package dns

// ID identifies a kind of Result; IDs are stable and safe to match on.
type ID string

// Result IDs.
const (
	// DNSNameNotFound: NXDOMAIN, NODATA or a failure rcode for a name CoreDNS should serve.
	DNSNameNotFound ID = "DNSNameNotFound"
	// DNSAnswerMismatch: the name resolves, but to other addresses or targets.
	DNSAnswerMismatch ID = "DNSAnswerMismatch"
	// DNSServerUnreachable: the DNS server sent no reply.
	DNSServerUnreachable ID = "DNSServerUnreachable"
	// DNSNotReadyEndpointPublished: an answer holds the address of a not-ready
	// endpoint although publishNotReadyAddresses is false.
	DNSNotReadyEndpointPublished ID = "DNSNotReadyEndpointPublished"
	// DNSSearchPathMiss: the name a pod would query does not reach the
	// Service through its resolv.conf search list.
	DNSSearchPathMiss ID = "DNSSearchPathMiss"
	// ExternalNameUnresolvable: an ExternalName's CNAME target has no address.
	ExternalNameUnresolvable ID = "ExternalNameUnresolvable"
)

// Severity ranks a Result.
type Severity string

// Severities, most severe first.
const (
	SeverityError   Severity = "error"
	SeverityWarning Severity = "warning"
	SeverityInfo    Severity = "info"
)

// Result is one finding of the DNS hop.
type Result struct {
	ID       ID
	Severity Severity
	// Subject is what the finding is about: a question ("name A"), a server
	// address or a queried short name.
	Subject string
	Message string
	// Hint is a concrete next step, usually a command to run.
	Hint string
}
