package probe

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	mdns "github.com/miekg/dns"

	"github.com/svctrace/kubectl-svctrace/dns"
)

// listenTCP serves plain TCP (accept and close) on loopback.
func listenTCP(t *testing.T) netip.AddrPort {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	return netip.MustParseAddrPort(ln.Addr().String())
}

// closedPort is a loopback port nothing listens on.
func closedPort(t *testing.T, network string) netip.AddrPort {
	t.Helper()
	if network == "udp" {
		c, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ap := netip.MustParseAddrPort(c.LocalAddr().String())
		c.Close()
		return ap
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ap := netip.MustParseAddrPort(ln.Addr().String())
	ln.Close()
	return ap
}

func TestRunConnectsForReal(t *testing.T) {
	open := listenTCP(t)
	web := http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) }), ReadHeaderTimeout: time.Second}
	wl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = web.Serve(wl) }()
	t.Cleanup(func() { web.Close() })
	echo, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { echo.Close() })
	go func() {
		buf := make([]byte, 512)
		for {
			n, from, err := echo.ReadFrom(buf)
			if err != nil {
				return
			}
			_, _ = echo.WriteTo(buf[:n], from)
		}
	}()
	silent, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { silent.Close() })

	plan := Plan{TimeoutMillis: 500, Targets: []Target{
		{Kind: KindClusterIP, Addr: open, Protocol: "TCP"},
		{Kind: KindEndpoint, Addr: closedPort(t, "tcp"), Protocol: "TCP"},
		{Kind: KindEndpoint, Addr: netip.MustParseAddrPort(wl.Addr().String()), Protocol: "TCP", HTTP: true},
		{Kind: KindEndpoint, Addr: netip.MustParseAddrPort(echo.LocalAddr().String()), Protocol: "UDP"},
		{Kind: KindEndpoint, Addr: closedPort(t, "udp"), Protocol: "UDP"},
		{Kind: KindEndpoint, Addr: netip.MustParseAddrPort(silent.LocalAddr().String()), Protocol: "UDP"},
	}}
	r := Run(context.Background(), plan, Env{ResolvConf: "/nonexistent"})
	want := []Outcome{OK, Refused, OK, OK, Refused, NoReply}
	for i, res := range r.Results {
		if res.Outcome != want[i] {
			t.Errorf("target %d (%s): outcome %s (%s), want %s", i, res.Target.Addr, res.Outcome, res.Detail, want[i])
		}
	}
	if r.Results[2].HTTPStatus != http.StatusTeapot {
		t.Errorf("HTTP target: status %d, want %d", r.Results[2].HTTPStatus, http.StatusTeapot)
	}
	if r.ResolvConf != nil || r.Answers != nil {
		t.Errorf("a plan without DNS questions read DNS: %+v", r)
	}
}

func TestRunClassifiesTimeouts(t *testing.T) {
	// A dropped SYN cannot be made on loopback without a firewall; the
	// dialer stands in for it and the classification is what is tested.
	env := Env{Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		<-ctx.Done()
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: ctx.Err()}
	}}
	r := Run(context.Background(), Plan{TimeoutMillis: 50, Targets: []Target{{Addr: netip.MustParseAddrPort("10.96.0.7:80"), Protocol: "TCP"}}}, env)
	if got := r.Results[0].Outcome; got != TimedOut {
		t.Fatalf("outcome %s (%s), want timeout", got, r.Results[0].Detail)
	}
}

// dnsServer answers A queries for the names in zone from a real miekg
// server on loopback.
func dnsServer(t *testing.T, zone map[string]string) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &mdns.Server{PacketConn: pc, Handler: mdns.HandlerFunc(func(w mdns.ResponseWriter, m *mdns.Msg) {
		r := new(mdns.Msg)
		r.SetReply(m)
		q := m.Question[0]
		if ip, ok := zone[q.Name]; ok && q.Qtype == mdns.TypeA {
			rr, _ := mdns.NewRR(q.Name + " 5 IN A " + ip)
			r.Answer = append(r.Answer, rr)
		} else if !ok {
			r.Rcode = mdns.RcodeNameError
		}
		_ = w.WriteMsg(r)
	})}
	go func() { _ = srv.ActivateAndServe() }()
	t.Cleanup(func() { _ = srv.Shutdown() })
	return pc.LocalAddr().String()
}

func TestRunAsksThroughTheResolverConfiguration(t *testing.T) {
	addr := dnsServer(t, map[string]string{"web.shop.svc.cluster.local.": "10.96.0.7"})
	rc := filepath.Join(t.TempDir(), "resolv.conf")
	if err := os.WriteFile(rc, []byte("nameserver 10.96.0.10\nsearch shop.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var asked string
	env := Env{ResolvConf: rc, Resolver: func(server string, timeout time.Duration) dns.Resolver {
		asked = server // the configuration's nameserver, on port 53
		return &dns.Client{Server: addr, Timeout: timeout}
	}}
	plan := Plan{
		Questions:  []dns.Question{{Name: "web.shop.svc.cluster.local.", Type: dns.TypeA}},
		Search:     []string{"web"},
		SearchType: dns.TypeA,
	}
	r := Run(context.Background(), plan, env)
	if asked != "10.96.0.10:53" || r.Server != asked {
		t.Fatalf("asked %q, report says %q; want the configuration's nameserver 10.96.0.10:53", asked, r.Server)
	}
	// web's candidates: web.shop.svc.cluster.local. (already asked),
	// web.svc.cluster.local., web.cluster.local., web.
	if len(r.Answers) != 4 {
		t.Fatalf("%d answers, want 4 (each question once): %+v", len(r.Answers), r.Answers)
	}
	rp := NewReplay(r)
	a, err := rp.Query(context.Background(), "WEB.shop.svc.cluster.local", dns.TypeA)
	if err != nil || len(a.Records) != 1 || a.Records[0].Value != "10.96.0.7" {
		t.Fatalf("replayed answer %+v, %v; want the A record 10.96.0.7", a, err)
	}
	if a, err := rp.Query(context.Background(), "web.cluster.local.", dns.TypeA); err != nil || a.Rcode != "NXDOMAIN" {
		t.Fatalf("replayed search candidate %+v, %v; want NXDOMAIN", a, err)
	}
	if _, err := rp.Query(context.Background(), "other.", dns.TypeA); err == nil {
		t.Fatal("replay answered a question the probe never asked")
	}
}

func TestRunReportsAnUnreadableResolverConfiguration(t *testing.T) {
	r := Run(context.Background(), Plan{Search: []string{"web"}, SearchType: dns.TypeA}, Env{ResolvConf: filepath.Join(t.TempDir(), "missing")})
	if r.ResolvConfErr == "" || r.ResolvConf != nil {
		t.Fatalf("report %+v: want the read error", r)
	}
}

func TestCodecRoundTripAndBounds(t *testing.T) {
	rep := &Report{Host: "client", Server: "10.96.0.10:53", Results: []Result{{Target: Target{Kind: KindClusterIP, Addr: netip.MustParseAddrPort("10.96.0.7:80"), Protocol: "TCP"}, Outcome: Refused}}}
	var buf bytes.Buffer
	buf.WriteString("some log line\n")
	if err := Encode(&buf, rep); err != nil {
		t.Fatal(err)
	}
	got, err := Decode(&buf)
	if err != nil || got.Host != "client" || got.Results[0].Outcome != Refused || got.Results[0].Target.Addr != rep.Results[0].Target.Addr {
		t.Fatalf("round trip: %+v, %v", got, err)
	}
	if _, err := Decode(strings.NewReader("nothing here\n")); err != ErrNoReport {
		t.Fatalf("no report: %v, want ErrNoReport", err)
	}
	huge := strings.NewReader(marker + strings.Repeat("x", MaxReport+10))
	if _, err := Decode(huge); err == nil || !strings.Contains(err.Error(), "exceeds") {
		t.Fatalf("oversized output: %v, want a size error", err)
	}
	if _, err := DecodePlan(`{"targets":[],"newField":1}`); err == nil {
		t.Fatal("a plan with an unknown field was accepted")
	}
}
