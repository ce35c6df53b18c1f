package main

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	mdns "github.com/miekg/dns"
)

// serveDNS answers from records (name → RR texts) on a loopback UDP port;
// unknown names get NXDOMAIN, or SERVFAIL when records["*"] says so (a
// CoreDNS asked outside its zone with no upstream, or cut off the API).
func serveDNS(t *testing.T, records map[string][]string) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &mdns.Server{PacketConn: pc, Handler: mdns.HandlerFunc(func(w mdns.ResponseWriter, q *mdns.Msg) {
		m := new(mdns.Msg)
		m.SetReply(q)
		m.Authoritative = true
		rrs, ok := records[q.Question[0].Name]
		switch {
		case !ok && len(records["*"]) == 1 && records["*"][0] == "SERVFAIL":
			m.Rcode = mdns.RcodeServerFailure
		case !ok:
			m.Rcode = mdns.RcodeNameError
		}
		for _, text := range rrs {
			rr, err := mdns.NewRR(text)
			if err == nil && rr.Header().Rrtype == q.Question[0].Qtype {
				m.Answer = append(m.Answer, rr)
			}
		}
		_ = w.WriteMsg(m)
	})}
	go func() { _ = srv.ActivateAndServe() }()
	t.Cleanup(func() { _ = srv.Shutdown() })
	return pc.LocalAddr().String()
}

func TestDNSCheckAgainstServer(t *testing.T) {
	const name = "hostnames.default.svc.cluster.local."
	const srvName = "_default._tcp.hostnames.default.svc.cluster.local."
	cases := []struct {
		name    string
		records map[string][]string
		code    int
		want    string
		// foreign: the server does not answer the API server's name, as
		// every cluster DNS does.
		foreign bool
	}{
		{"answers match", map[string][]string{
			name:    {name + " 5 IN A 10.96.0.150"},
			srvName: {srvName + " 5 IN SRV 0 100 80 " + name},
			// CoreDNS also answers per-endpoint names of ClusterIP Services.
			"10-244-1-7." + name: {"10-244-1-7." + name + " 5 IN A 10.244.1.7"},
			"10-244-2-5." + name: {"10-244-2-5." + name + " 5 IN A 10.244.2.5"},
		}, ExitOK, "✔ A hostnames.default.svc.cluster.local. → 10.96.0.150", false},
		{"wrong address", map[string][]string{name: {name + " 5 IN A 10.96.0.99"}}, ExitFindings, "DNSAnswerMismatch", false},
		// Another resolver (a VPN's) answers NXDOMAIN for every cluster
		// name: that must not be blamed on the Service.
		{"not the cluster DNS", map[string][]string{}, ExitOK, "DNSWrongServer", true},
		{"wrong cluster domain", map[string][]string{"*": {"SERVFAIL"}}, ExitOK, "answered SERVFAIL for kubernetes.default.svc.cluster.local.", true},
	}
	const apiName = "kubernetes.default.svc.cluster.local."
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// A cluster DNS always serves the API server's Service.
			if !tc.foreign {
				tc.records[apiName] = []string{apiName + " 5 IN A 10.96.0.1"}
			}
			addr := serveDNS(t, tc.records)
			r := runWith(t, nil, false, nil, "--demo", "--dns-server", addr)
			if r.code != tc.code || !strings.Contains(r.out, tc.want) {
				t.Errorf("code %d (want %d), stdout lacks %q:\n%s%s", r.code, tc.code, tc.want, r.out, r.errOut)
			}
			if !strings.Contains(r.out, "DNS via "+addr) {
				t.Errorf("output does not name the server %s", addr)
			}
		})
	}
}

// With --from pod and a live server, the pod's search path is walked as its
// resolver would: a name in an earlier search domain that answers (a
// wildcard record in a corporate domain) wins over the Service's name.
func TestSearchPathWalkedLive(t *testing.T) {
	client := filepath.Join(t.TempDir(), "client.yaml")
	if err := os.WriteFile(client, []byte(`apiVersion: v1
kind: Pod
metadata: {name: client, namespace: shop}
spec:
  containers: [{name: c, image: busybox}]
  dnsPolicy: None
  dnsConfig:
    nameservers: [10.96.0.10]
    searches: [corp.example, svc.cluster.local]
    options: [{name: ndots, value: "5"}]
`), 0o600); err != nil {
		t.Fatal(err)
	}
	const svcName = "web.default.svc.cluster.local."
	for _, tc := range []struct {
		name     string
		wildcard bool
		want     string
	}{
		{"the Service's name answers first", false, ""},
		{"a corporate wildcard answers first", true, `resolves as web.default.corp.example. [10.1.2.3] before reaching web.default.svc.cluster.local.`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			records := map[string][]string{
				"kubernetes.default.svc.cluster.local.": {"kubernetes.default.svc.cluster.local. 5 IN A 10.96.0.1"},
				svcName:                                 {svcName + " 5 IN A 10.96.0.20"},
			}
			if tc.wildcard {
				records["web.default.corp.example."] = []string{"web.default.corp.example. 5 IN A 10.1.2.3"}
			}
			addr := serveDNS(t, records)
			r := runWith(t, nil, false, nil, "-f", scenarioPath("healthy.yaml"), "-f", client, "web", "--from", "pod/shop/client", "--dns-server", addr)
			missed := strings.Contains(r.out, "DNSSearchPathMiss")
			if missed != (tc.want != "") || (tc.want != "" && !strings.Contains(strings.Join(strings.Fields(r.out), " "), tc.want)) {
				t.Errorf("DNSSearchPathMiss %t, want %t with %q:\n%s%s", missed, tc.want != "", tc.want, r.out, r.errOut)
			}
		})
	}
}
