package probe

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"sync"
	"syscall"
	"time"

	mdns "github.com/miekg/dns"

	"github.com/svctrace/kubectl-svctrace/dns"
)

// DefaultTimeout bounds each connection and DNS exchange of a plan that
// sets none.
const DefaultTimeout = 3 * time.Second

// parallel bounds the connections in flight at once.
const parallel = 8

// Env is what a probe touches; the zero value is the real machine.
type Env struct {
	// ResolvConf is the resolver configuration's path (/etc/resolv.conf).
	ResolvConf string
	// Dial opens connections (a net.Dialer's DialContext).
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// Resolver asks one server (a *dns.Client).
	Resolver func(server string, timeout time.Duration) dns.Resolver
}

func (e Env) withDefaults() Env {
	if e.ResolvConf == "" {
		e.ResolvConf = "/etc/resolv.conf"
	}
	if e.Dial == nil {
		e.Dial = (&net.Dialer{}).DialContext
	}
	if e.Resolver == nil {
		e.Resolver = func(server string, timeout time.Duration) dns.Resolver {
			return &dns.Client{Server: server, Timeout: timeout}
		}
	}
	return e
}

// Run carries out p and reports what it saw. It does not fail: every
// problem is part of the report.
func Run(ctx context.Context, p Plan, env Env) *Report {
	env = env.withDefaults()
	timeout := DefaultTimeout
	if p.TimeoutMillis > 0 {
		timeout = time.Duration(p.TimeoutMillis) * time.Millisecond
	}
	r := &Report{}
	r.Host, _ = os.Hostname()
	if len(p.Questions) > 0 || len(p.Search) > 0 {
		askDNS(ctx, p, env, timeout, r)
	}
	r.Results = make([]Result, len(p.Targets))
	var wg sync.WaitGroup
	slots := make(chan struct{}, parallel)
	for i, t := range p.Targets {
		wg.Go(func() {
			slots <- struct{}{}
			defer func() { <-slots }()
			r.Results[i] = connect(ctx, env, t, timeout)
		})
	}
	wg.Wait()
	return r
}

// askDNS reads the resolver configuration and asks its first nameserver
// the plan's questions and every name the search list makes of p.Search.
func askDNS(ctx context.Context, p Plan, env Env, timeout time.Duration, r *Report) {
	b, err := os.ReadFile(env.ResolvConf)
	if err != nil {
		r.ResolvConfErr = err.Error()
		return
	}
	rc := dns.ParseResolvConf(string(b))
	r.ResolvConf = &rc
	if len(rc.Nameservers) == 0 {
		r.ResolvConfErr = env.ResolvConf + " names no nameserver"
		return
	}
	r.Server = net.JoinHostPort(rc.Nameservers[0], "53")
	res := env.Resolver(r.Server, timeout)
	questions := append([]dns.Question{}, p.Questions...)
	for _, name := range p.Search {
		for _, c := range rc.Candidates(name) {
			questions = append(questions, dns.Question{Name: c, Type: p.SearchType})
		}
	}
	asked := map[dns.Question]bool{}
	for _, q := range questions {
		if asked[q] || q.Type == "" {
			continue
		}
		asked[q] = true
		a, err := res.Query(ctx, q.Name, q.Type)
		ans := Answer{Question: q, Answer: a}
		if err != nil {
			var ue *dns.UnreachableError
			ans.Unreachable, ans.Err = errors.As(err, &ue), err.Error()
		}
		r.Answers = append(r.Answers, ans)
	}
}

// connect tries one target.
func connect(ctx context.Context, env Env, t Target, timeout time.Duration) Result {
	res := Result{Target: t}
	start := time.Now()
	defer func() { res.Millis = float64(time.Since(start).Microseconds()) / 1000 }()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	network := "tcp"
	if t.Protocol == "UDP" {
		network = "udp"
	}
	conn, err := env.Dial(ctx, network, t.Addr.String())
	if err != nil {
		res.Outcome, res.Detail = classify(err), err.Error()
		return res
	}
	defer conn.Close()
	deadline, _ := ctx.Deadline()
	_ = conn.SetDeadline(deadline)
	switch {
	case network == "udp":
		res.Outcome, res.Detail = udpExchange(conn, t)
	case t.HTTP:
		res.Outcome, res.HTTPStatus, res.Detail = httpGet(conn, t)
	default:
		res.Outcome = OK
	}
	return res
}

// udpExchange sends one datagram and waits for any reply: a DNS query to
// port 53, a short text elsewhere. An ICMP port unreachable shows as a
// refused read on the connected socket.
func udpExchange(conn net.Conn, t Target) (Outcome, string) {
	payload := []byte("kubectl-svctrace probe\n")
	if t.Addr.Port() == 53 {
		m := new(mdns.Msg)
		m.SetQuestion(".", mdns.TypeNS)
		payload, _ = m.Pack()
	}
	if _, err := conn.Write(payload); err != nil {
		return classify(err), err.Error()
	}
	buf := make([]byte, 512)
	if _, err := conn.Read(buf); err != nil {
		if o := classify(err); o != TimedOut {
			return o, err.Error()
		}
		return NoReply, "no datagram came back (UDP cannot tell a silent server from a dropped packet)"
	}
	return OK, ""
}

// httpGet asks GET / over conn and reads the status line.
func httpGet(conn net.Conn, t Target) (Outcome, int, string) {
	req, _ := http.NewRequest(http.MethodGet, "http://"+t.Addr.String()+"/", nil)
	req.Header.Set("User-Agent", "kubectl-svctrace-probe")
	req.Close = true
	if err := req.Write(conn); err != nil {
		return classify(err), 0, err.Error()
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), req)
	if err != nil {
		o := classify(err)
		if o == OK {
			o = Failed
		}
		return o, 0, "connected, but no HTTP reply: " + err.Error()
	}
	resp.Body.Close()
	return OK, resp.StatusCode, resp.Status
}

// classify maps a network error to an outcome.
func classify(err error) Outcome {
	var ne net.Error
	switch {
	case err == nil:
		return OK
	case errors.Is(err, syscall.ECONNREFUSED):
		return Refused
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return Unreachable
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return TimedOut
	case errors.Is(err, syscall.ECONNRESET):
		return Refused
	}
	return Failed
}

// String is a one-line account of a result, e.g. "10.96.0.7:80/TCP refused".
func (r Result) String() string {
	s := fmt.Sprintf("%s/%s %s", r.Target.Addr, r.Target.Protocol, r.Outcome)
	if r.HTTPStatus != 0 {
		s += fmt.Sprintf(" (HTTP %d)", r.HTTPStatus)
	}
	return s
}
