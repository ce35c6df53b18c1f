package dns

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	mdns "github.com/miekg/dns"
)

// testServer is a miekg/dns server on one loopback port for UDP and TCP. It
// serves a small zone; "big." names answer UDP with only the TC bit so the
// client must retry over TCP, and "silent." names never answer.
type testServer struct {
	addr  string
	mu    sync.Mutex
	nets  []string // network of each question served, "udp" or "tcp"
	zone  map[Question][]mdns.RR
	names map[string]bool
}

func startServer(t *testing.T, rrs ...string) *testServer {
	t.Helper()
	s := &testServer{zone: map[Question][]mdns.RR{}, names: map[string]bool{}}
	for _, text := range rrs {
		rr, err := mdns.NewRR(text)
		if err != nil {
			t.Fatalf("zone record %q: %v", text, err)
		}
		h := rr.Header()
		q := Question{Name: fqdn(h.Name), Type: RecordType(mdns.TypeToString[h.Rrtype])}
		s.zone[q] = append(s.zone[q], rr)
		s.names[q.Name] = true
	}
	pc, ln := listenPair(t)
	s.addr = pc.LocalAddr().String()
	for _, srv := range []*mdns.Server{{PacketConn: pc, Handler: s}, {Listener: ln, Handler: s}} {
		started := make(chan struct{})
		srv.NotifyStartedFunc = func() { close(started) }
		go func() { _ = srv.ActivateAndServe() }()
		<-started
		t.Cleanup(func() { _ = srv.Shutdown() })
	}
	return s
}

// listenPair binds UDP and TCP on the same loopback port, retrying when the
// kernel's free UDP port is taken for TCP.
func listenPair(t *testing.T) (net.PacketConn, net.Listener) {
	t.Helper()
	for range 20 {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ln, err := net.Listen("tcp", pc.LocalAddr().String())
		if err == nil {
			return pc, ln
		}
		pc.Close()
	}
	t.Fatal("no loopback port free for both UDP and TCP")
	return nil, nil
}

func (s *testServer) ServeDNS(w mdns.ResponseWriter, r *mdns.Msg) {
	q := r.Question[0]
	name := strings.ToLower(q.Name)
	network := w.RemoteAddr().Network()
	s.mu.Lock()
	s.nets = append(s.nets, network)
	s.mu.Unlock()
	if strings.HasPrefix(name, "silent.") {
		return
	}
	m := new(mdns.Msg)
	m.SetReply(r)
	m.Authoritative = true
	if strings.HasPrefix(name, "big.") && network == "udp" {
		m.Truncated = true
		_ = w.WriteMsg(m)
		return
	}
	m.Answer = s.zone[Question{Name: name, Type: RecordType(mdns.TypeToString[q.Qtype])}]
	if len(m.Answer) == 0 && !s.names[name] {
		m.Rcode = mdns.RcodeNameError
	}
	_ = w.WriteMsg(m)
}

func (s *testServer) networks() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.nets...)
}

func TestClientQuery(t *testing.T) {
	s := startServer(t,
		"web.default.svc.cluster.local. 5 IN A 10.96.0.20",
		"web.default.svc.cluster.local. 5 IN AAAA fd00::20",
		"_http._tcp.web.default.svc.cluster.local. 5 IN SRV 0 100 80 web.default.svc.cluster.local.",
		"db.default.svc.cluster.local. 5 IN CNAME db.example.com.",
		"big.default.svc.cluster.local. 5 IN A 10.244.0.1",
		"big.default.svc.cluster.local. 5 IN A 10.244.0.2",
	)
	tests := []struct {
		name string
		q    Question
		want *Answer
		nets []string
	}{
		{"A over UDP", Question{"Web.Default.svc.cluster.local", TypeA}, &Answer{
			Question: Question{web, TypeA}, Rcode: RcodeSuccess, Records: []Record{rec(web, TypeA, "10.96.0.20")},
		}, []string{"udp"}},
		{"AAAA", Question{web, TypeAAAA}, &Answer{
			Question: Question{web, TypeAAAA}, Rcode: RcodeSuccess, Records: []Record{rec(web, TypeAAAA, "fd00::20")},
		}, []string{"udp"}},
		{"SRV", Question{webTCP, TypeSRV}, &Answer{
			Question: Question{webTCP, TypeSRV}, Rcode: RcodeSuccess, Records: []Record{srvRec(webTCP, web, 80, 100)},
		}, []string{"udp"}},
		{"CNAME", Question{"db.default.svc.cluster.local.", TypeCNAME}, &Answer{
			Question: Question{"db.default.svc.cluster.local.", TypeCNAME}, Rcode: RcodeSuccess,
			Records: []Record{rec("db.default.svc.cluster.local.", TypeCNAME, "db.example.com.")},
		}, []string{"udp"}},
		{"truncated UDP falls back to TCP", Question{"big.default.svc.cluster.local.", TypeA}, &Answer{
			Question: Question{"big.default.svc.cluster.local.", TypeA}, Rcode: RcodeSuccess, TCP: true,
			Records: []Record{rec("big.default.svc.cluster.local.", TypeA, "10.244.0.1"), rec("big.default.svc.cluster.local.", TypeA, "10.244.0.2")},
		}, []string{"udp", "tcp"}},
		{"NXDOMAIN is an answer, not an error", Question{"nope.default.svc.cluster.local.", TypeA}, &Answer{
			Question: Question{"nope.default.svc.cluster.local.", TypeA}, Rcode: RcodeNXDomain,
		}, []string{"udp"}},
		{"NODATA: the name exists with other types", Question{webTCP, TypeA}, &Answer{
			Question: Question{webTCP, TypeA}, Rcode: RcodeSuccess,
		}, []string{"udp"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(s.networks())
			c := &Client{Server: s.addr, Timeout: 2 * time.Second}
			got, err := c.Query(context.Background(), tt.q.Name, tt.q.Type)
			if err != nil {
				t.Fatalf("Query: %v", err)
			}
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("answer (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.nets, s.networks()[before:]); diff != "" {
				t.Errorf("transports used (-want +got):\n%s", diff)
			}
		})
	}
}

func TestClientVerify(t *testing.T) {
	s := startServer(t,
		"web.default.svc.cluster.local. 5 IN A 10.96.0.99",
		"_http._tcp.web.default.svc.cluster.local. 5 IN SRV 0 100 80 web.default.svc.cluster.local.",
	)
	e := mustExpect(t, Input{Service: service("web", "default", []string{"10.96.0.20"}, svcPort("http", tcp, 80))})
	got, err := verify(context.Background(), &Client{Server: s.addr}, e)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]ID{DNSAnswerMismatch}, ids(got)); diff != "" {
		t.Errorf("ids (-want +got):\n%s\n%v", diff, got)
	}
}

func TestClientUnreachable(t *testing.T) {
	// A port that was just bound and closed: nothing listens, and the kernel
	// answers with ICMP port unreachable on loopback.
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := pc.LocalAddr().String()
	pc.Close()
	silent := startServer(t)

	tests := []struct {
		name   string
		server string
		qname  string
	}{
		{"closed port", closed, web},
		{"server that never answers", silent.addr, "silent.example."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &Client{Server: tt.server, Timeout: 200 * time.Millisecond}
			_, err := c.Query(context.Background(), tt.qname, TypeA)
			var ue *UnreachableError
			if !errors.As(err, &ue) {
				t.Fatalf("error %v (%T), want *UnreachableError", err, err)
			}
			for _, want := range []string{fmt.Sprintf("DNS server %s unreachable from here", tt.server), "query " + tt.qname + " A"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not contain %q", err, want)
				}
			}
		})
	}
}

func TestClientCancel(t *testing.T) {
	s := startServer(t)
	ctx, cancel := context.WithCancel(context.Background())
	// A long timeout: only the cancellation can end the query.
	c := &Client{Server: s.addr, Timeout: time.Hour}
	go func() {
		for len(s.networks()) == 0 {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	_, err := c.Query(ctx, "silent.example.", TypeA)
	var ue *UnreachableError
	if !errors.Is(err, context.Canceled) || errors.As(err, &ue) {
		t.Fatalf("error %v, want context.Canceled and not unreachable", err)
	}
}

func TestClientBadType(t *testing.T) {
	c := &Client{Server: "127.0.0.1:1"}
	if _, err := c.Query(context.Background(), web, "BOGUS"); err == nil || !strings.Contains(err.Error(), `unsupported record type "BOGUS"`) {
		t.Errorf("error %v", err)
	}
}
