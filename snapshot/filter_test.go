package snapshot

import (
	"net/netip"
	"os"
	"strings"
	"testing"

	"github.com/svctrace/kubectl-svctrace/dataplane/iptables"
	"github.com/svctrace/kubectl-svctrace/dataplane/ipvs"
	"github.com/svctrace/kubectl-svctrace/dataplane/nftables"
)

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestFilterIPTablesKeepsOnlyTheService(t *testing.T) {
	full := read(t, "../dataplane/iptables/testdata/kube-proxy-legacy.save")
	got, err := FilterIPTables(full, &Filter{Service: "ns1/svc1"})
	if err != nil {
		t.Fatal(err)
	}
	before, after := mustParse(t, full), mustParse(t, got)
	// Every rule of ns1/svc1 survives, with its text.
	for _, pn := range []string{"ns1/svc1:p80"} {
		b, a := before.RulesForService(pn), after.RulesForService(pn)
		if len(b) == 0 || len(a) != len(b) {
			t.Fatalf("%s: %d rules before, %d after", pn, len(b), len(a))
		}
		for i := range b {
			if a[i].Text != b[i].Text {
				t.Errorf("rule changed: %q -> %q", b[i].Text, a[i].Text)
			}
		}
	}
	for _, other := range []string{"ns2/svc2", "ns3/svc3", "KUBE-SVC-X27LE4BHSL4DOUIK", "KUBE-SEP-NY72AAESATAM7FRG"} {
		if strings.Contains(got, other) {
			t.Errorf("filtered dump still mentions %s", other)
		}
	}
	// Shared plumbing stays: the walk needs it.
	for _, keep := range []string{"-A PREROUTING", "-A KUBE-POSTROUTING -j MARK", "-A KUBE-MARK-MASQ", "KUBE-SVC-XPGD46QRK7WJZT7O", "COMMIT"} {
		if !strings.Contains(got, keep) {
			t.Errorf("filtered dump lost %q", keep)
		}
	}
}

func mustParse(t *testing.T, s string) *iptables.Dump {
	t.Helper()
	d, err := iptables.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestFilterNFTKeepsOnlyTheService(t *testing.T) {
	full := read(t, "../dataplane/nftables/testdata/v137.json")
	f := &Filter{Service: "ns2/svc2", Addresses: []netip.Addr{netip.MustParseAddr("172.30.0.42")}}
	got, err := FilterNFT(full, f)
	if err != nil {
		t.Fatal(err)
	}
	rs, err := nftables.ParseJSON(strings.NewReader(got))
	if err != nil {
		t.Fatalf("filtered ruleset does not parse: %v", err)
	}
	if rs == nil {
		t.Fatal("no ruleset")
	}
	for _, other := range []string{"ns1/svc1", "ns5/svc5", "ns6/svc6", "ns7/svc7", "172.30.0.41"} {
		if strings.Contains(got, other) {
			t.Errorf("filtered ruleset still mentions %s", other)
		}
	}
	for _, keep := range []string{"service-42NFTM6N-ns2/svc2/tcp/p80", "external-42NFTM6N-ns2/svc2/tcp/p80", `"172.30.0.42"`, "nat-prerouting", "reject-chain"} {
		if !strings.Contains(got, keep) {
			t.Errorf("filtered ruleset lost %s", keep)
		}
	}
	if _, err := FilterNFT("{", f); err == nil {
		t.Error("bad JSON accepted")
	}
}

func TestFilterIPVSAndConntrack(t *testing.T) {
	f := &Filter{Service: "default/web", Addresses: []netip.Addr{netip.MustParseAddr("10.96.0.10")}, NodePorts: []uint16{30080}}
	tab := ipvs.Table{VirtualServers: []ipvs.VirtualServer{
		{Address: netip.MustParseAddr("10.96.0.10"), Port: 80, Protocol: ipvs.TCP},
		{Address: netip.MustParseAddr("10.96.0.11"), Port: 80, Protocol: ipvs.TCP},
		{Address: netip.MustParseAddr("172.31.0.2"), Port: 30080, Protocol: ipvs.TCP},
	}}
	got := FilterIPVS(tab, f)
	if len(got.VirtualServers) != 2 || got.VirtualServers[1].Port != 30080 {
		t.Errorf("FilterIPVS kept %+v", got.VirtualServers)
	}
	ct := "tcp      6 86398 ESTABLISHED src=10.244.1.5 dst=10.96.0.10 sport=4000 dport=80 src=10.244.1.9 dst=10.244.1.5 sport=80 dport=4000 [ASSURED] mark=0 use=1\n" +
		"tcp      6 86398 ESTABLISHED src=10.244.1.5 dst=10.96.0.11 sport=4001 dport=80 src=10.244.1.8 dst=10.244.1.5 sport=80 dport=4001 [ASSURED] mark=0 use=1\n" +
		"udp      17 20 src=1.2.3.4 dst=172.31.0.2 sport=5 dport=30080 src=10.244.1.9 dst=1.2.3.4 sport=80 dport=5 mark=0 use=1\n" +
		"conntrack v1.4.7 (conntrack-tools): 3 flow entries have been shown.\n"
	out := FilterConntrack(ct, f)
	if strings.Contains(out, "10.96.0.11") || !strings.Contains(out, "dst=10.96.0.10") || !strings.Contains(out, "dport=30080") || !strings.Contains(out, "flow entries") {
		t.Errorf("FilterConntrack:\n%s", out)
	}
}

func TestParseFilter(t *testing.T) {
	f, err := ParseFilter("default/web", "10.96.0.10, fd00::1", "30080")
	if err != nil || len(f.Addresses) != 2 || f.NodePorts[0] != 30080 {
		t.Fatalf("ParseFilter: %+v, %v", f, err)
	}
	for _, bad := range [][3]string{{"web", "", ""}, {"a/b/c", "", ""}, {"a/b", "10.0.0", ""}, {"a/b", "", "70000"}, {"a/b", "", "0"}} {
		if _, err := ParseFilter(bad[0], bad[1], bad[2]); err == nil {
			t.Errorf("ParseFilter%q accepted", bad)
		}
	}
}

func TestCommentService(t *testing.T) {
	for c, want := range map[string]string{
		"ns1/svc1:p80":            "ns1/svc1",
		"ns1/svc1:p80 cluster IP": "ns1/svc1",
		"default/hostnames":       "default/hostnames",
		"kubernetes service nodeports; NOTE: this must be the last rule in this chain": "",
		"masquerade traffic for ns1/svc1:p80 external destinations":                    "",
		"": "",
	} {
		if got := commentService(c); got != want {
			t.Errorf("commentService(%q) = %q, want %q", c, got, want)
		}
	}
}

// A node scoped --serve programs holds the same rules in SVCT- chains: the
// filter keeps the Service's SVCT- chains and drops the others'.
func TestFilterIPTablesKeepsScopedServeChains(t *testing.T) {
	full := strings.ReplaceAll(read(t, "../dataplane/iptables/testdata/kube-proxy-legacy.save"), "KUBE-", "SVCT-")
	got, err := FilterIPTables(full, &Filter{Service: "ns1/svc1"})
	if err != nil {
		t.Fatal(err)
	}
	for _, other := range []string{"ns2/svc2", "SVCT-SVC-X27LE4BHSL4DOUIK", "SVCT-SEP-NY72AAESATAM7FRG"} {
		if strings.Contains(got, other) {
			t.Errorf("filtered dump still mentions %s", other)
		}
	}
	if !strings.Contains(got, ":SVCT-SVC-XPGD46QRK7WJZT7O") || len(mustParse(t, got).RulesForService("ns1/svc1:p80")) == 0 {
		t.Errorf("filtered dump lost ns1/svc1's SVCT- chains:\n%s", got)
	}
}
