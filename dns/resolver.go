package dns

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"

	mdns "github.com/miekg/dns"
)

// Resolver asks one DNS server one question. Implementations return an
// Answer for every reply the server sends, NXDOMAIN included; an error means
// no usable reply (an *UnreachableError when the server did not answer).
type Resolver interface {
	Query(ctx context.Context, name string, t RecordType) (*Answer, error)
}

// Rcodes the package names; any other code is carried as miekg/dns prints it.
const (
	RcodeSuccess  = "NOERROR"
	RcodeNXDomain = "NXDOMAIN"
)

// Answer is a server's reply to one Question.
type Answer struct {
	Question Question
	Rcode    string
	// Records are the answer section's A, AAAA, CNAME and SRV records, in
	// server order; a CNAME chain appears as its CNAME and target records.
	Records []Record
	// TCP is set when the UDP reply was truncated and TCP answered instead.
	TCP bool
}

// OfType returns the answer records of type t.
func (a *Answer) OfType(t RecordType) []Record {
	var out []Record
	for _, r := range a.Records {
		if r.Type == t {
			out = append(out, r)
		}
	}
	return out
}

// DefaultTimeout bounds each exchange (UDP, and TCP after truncation). The
// cluster DNS answers in milliseconds; waiting longer only delays the
// "unreachable from here" verdict.
const DefaultTimeout = 2 * time.Second

// ednsBufferSize is the payload size advertised with EDNS0; 1232 is the
// flag-day value that avoids IP fragmentation.
const ednsBufferSize = 1232

// Client queries a DNS server with github.com/miekg/dns.
type Client struct {
	// Server is "host:port", e.g. "10.96.0.10:53"; see ServerAddr.
	Server string
	// Timeout bounds each exchange; DefaultTimeout when zero.
	Timeout time.Duration
}

var _ Resolver = (*Client)(nil)

// Query sends one recursive question over UDP and repeats it over TCP when
// the reply is truncated. It returns within Timeout per exchange or when ctx
// ends, whichever is first.
func (c *Client) Query(ctx context.Context, name string, t RecordType) (*Answer, error) {
	qtype, ok := mdns.StringToType[string(t)]
	if !ok || t == "" {
		return nil, fmt.Errorf("query %s: unsupported record type %q", name, t)
	}
	q := Question{Name: fqdn(name), Type: t}
	m := new(mdns.Msg)
	m.SetQuestion(q.Name, qtype)
	m.SetEdns0(ednsBufferSize, false)

	resp, err := c.exchange(ctx, "udp", m)
	tcp := false
	if err == nil && resp.Truncated {
		tcp = true
		resp, err = c.exchange(ctx, "tcp", m)
	}
	if err != nil {
		return nil, c.wrap(ctx, q, err)
	}
	return toAnswer(q, resp, tcp), nil
}

// exchange runs one exchange. miekg/dns only honours a context deadline, so
// the connection is closed when ctx is cancelled to unblock the read.
func (c *Client) exchange(ctx context.Context, network string, m *mdns.Msg) (*mdns.Msg, error) {
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cl := &mdns.Client{Net: network, Timeout: timeout}
	conn, err := cl.DialContext(ctx, c.Server)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	resp, _, err := cl.ExchangeWithConnContext(ctx, m, conn)
	if err != nil && ctx.Err() != nil {
		return nil, fmt.Errorf("%w: %w", ctx.Err(), err)
	}
	return resp, err
}

// wrap turns transport failures into *UnreachableError; a cancelled parent
// context stays a plain error so callers can tell "user pressed ^C" apart.
func (c *Client) wrap(ctx context.Context, q Question, err error) error {
	if ctx.Err() != nil && !errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("query %s at %s: %w", q, c.Server, err)
	}
	var ne net.Error
	var oe *net.OpError
	if errors.As(err, &ne) || errors.As(err, &oe) || errors.Is(err, context.DeadlineExceeded) {
		return &UnreachableError{Server: c.Server, Question: q, Err: err}
	}
	return fmt.Errorf("query %s at %s: %w", q, c.Server, err)
}

func toAnswer(q Question, resp *mdns.Msg, tcp bool) *Answer {
	a := &Answer{Question: q, Rcode: mdns.RcodeToString[resp.Rcode], TCP: tcp}
	if a.Rcode == "" {
		a.Rcode = fmt.Sprintf("RCODE%d", resp.Rcode)
	}
	for _, rr := range resp.Answer {
		if r, ok := fromRR(rr); ok {
			a.Records = append(a.Records, r)
		}
	}
	return a
}

func fromRR(rr mdns.RR) (Record, bool) {
	h := rr.Header()
	r := Record{Name: fqdn(h.Name), TTL: h.Ttl}
	switch v := rr.(type) {
	case *mdns.A:
		r.Type, r.Value = TypeA, addrString(v.A)
	case *mdns.AAAA:
		r.Type, r.Value = TypeAAAA, addrString(v.AAAA)
	case *mdns.CNAME:
		r.Type, r.Value = TypeCNAME, fqdn(v.Target)
	case *mdns.SRV:
		r.Type, r.Value = TypeSRV, fqdn(v.Target)
		r.Port, r.Priority, r.Weight = v.Port, v.Priority, v.Weight
	default:
		return Record{}, false
	}
	return r, true
}

func addrString(ip net.IP) string {
	a, ok := netip.AddrFromSlice(ip)
	if !ok {
		return ip.String()
	}
	return a.Unmap().String()
}

// UnreachableError means the server sent no reply: refused, timed out or no
// route. From a laptop this is the normal case for a ClusterIP, which only
// exists inside the cluster network.
type UnreachableError struct {
	Server   string
	Question Question
	Err      error
}

func (e *UnreachableError) Error() string {
	return fmt.Sprintf("DNS server %s unreachable from here (query %s: %v)", e.Server, e.Question, e.Err)
}

func (e *UnreachableError) Unwrap() error { return e.Err }

// debugPodCommand is a kubectl line that asks server (the pod's own
// nameserver when empty) for name from inside the cluster.
func debugPodCommand(server, name string) string {
	host := server
	if h, _, err := net.SplitHostPort(server); err == nil {
		host = h
	}
	return strings.TrimSpace(fmt.Sprintf("kubectl run -it --rm dnscheck --image=busybox:1.36 --restart=Never -- nslookup %s %s",
		strings.TrimSuffix(name, "."), host))
}
