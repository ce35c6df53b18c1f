package snapshot

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/svctrace/kubectl-svctrace/dataplane/conntrack"
	"github.com/svctrace/kubectl-svctrace/dataplane/ipvs"
	kipvs "github.com/svctrace/kubectl-svctrace/kernel/ipvs"
)

// fakeNode answers commands and URLs from maps and records what ran.
type fakeNode struct {
	out  map[string]string // by command line
	urls map[string]string
	ran  []string
}

func (f *fakeNode) Run(_ context.Context, argv []string) ([]byte, error) {
	line := strings.Join(argv, " ")
	f.ran = append(f.ran, line)
	if o, ok := f.out[line]; ok {
		return []byte(o), nil
	}
	return nil, errors.New("exit status 1")
}

func (f *fakeNode) Get(_ context.Context, url string) ([]byte, error) {
	if o, ok := f.urls[url]; ok {
		return []byte(o), nil
	}
	return []byte(`{"lastUpdated":"x"}`), errors.New(url + " answered 503 Service Unavailable")
}

func newFakeCollector(node *fakeNode, hostFiles, agentBins []string) *Collector {
	has := func(list []string, s string) bool {
		for _, v := range list {
			if v == s {
				return true
			}
		}
		return false
	}
	return &Collector{
		HostRoot: "/host",
		Run:      node,
		HTTP:     node,
		IPVS:     func(context.Context) (ipvs.Table, error) { return ipvs.Table{}, kipvs.ErrNoIPVS },
		Exists:   func(p string) bool { return has(hostFiles, p) },
		LookPath: func(n string) (string, error) {
			if has(agentBins, n) {
				return "/usr/sbin/" + n, nil
			}
			return "", errors.New("not found")
		},
		Now:         func() time.Time { return time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC) },
		Node:        "node-1",
		MetricsAddr: "127.0.0.1:10249",
		HealthzAddr: "127.0.0.1:10256",
	}
}

func TestCollectPrefersHostBinaries(t *testing.T) {
	node := &fakeNode{out: map[string]string{
		"chroot /host /usr/sbin/iptables-nft-save -c": "*nat\n:KUBE-SERVICES - [0:0]\nCOMMIT\n",
		"/usr/sbin/iptables-legacy-save -c":           "",
		"/usr/sbin/uname -r":                          "6.1.0\n",
	}, urls: map[string]string{"http://127.0.0.1:10249/proxyMode": "iptables"}}
	c := newFakeCollector(node, []string{"/host", "/host/usr/sbin/iptables-nft-save"}, []string{"iptables-legacy-save", "uname"})
	s := c.Collect(context.Background())
	if s.Format != Format || s.HostRoot != "/host" || s.Node != "node-1" {
		t.Fatalf("header: %+v", s)
	}
	nft, _ := s.Section(IPTablesNFT)
	if nft.Source != "chroot /host /usr/sbin/iptables-nft-save -c" || !strings.Contains(nft.Output, "KUBE-SERVICES") || nft.Error != "" {
		t.Errorf("nft backend: %+v", nft)
	}
	if legacy, _ := s.Section(IPTablesLegacy); legacy.Source != "/usr/sbin/iptables-legacy-save -c" {
		t.Errorf("legacy backend should fall back to the agent's binary: %+v", legacy)
	}
	if nftJSON, _ := s.Section(NFT); !strings.Contains(nftJSON.Error, "nft not found on the host or in the agent image") {
		t.Errorf("missing nft: %+v", nftJSON)
	}
	if m, _ := s.Section(ProxyMode); m.Output != "iptables" || m.Error != "" {
		t.Errorf("proxy mode: %+v", m)
	}
	if h, _ := s.Section(Healthz); !strings.Contains(h.Error, "503") || h.Output == "" {
		t.Errorf("healthz keeps the body of a 503: %+v", h)
	}
	if v, _ := s.Section(IPVS); !strings.Contains(v.Error, "IPVS") {
		t.Errorf("ipvs: %+v", v)
	}
	if _, ok := s.Section(IPTablesDefault); ok {
		t.Error("plain iptables-save read although a backend-specific one exists")
	}
}

func TestCollectFallsBackToIPTablesSave(t *testing.T) {
	node := &fakeNode{out: map[string]string{"/usr/sbin/iptables-save -c": "*filter\nCOMMIT\n"}}
	c := newFakeCollector(node, nil, []string{"iptables-save"})
	s := c.Collect(context.Background())
	sec, ok := s.Section(IPTablesDefault)
	if !ok || sec.Output == "" || s.HostRoot != "" {
		t.Fatalf("iptables-save: %+v (host root %q)", sec, s.HostRoot)
	}
	if _, ok := s.Section(IPTablesLegacy); ok {
		t.Error("legacy section present although its command is missing")
	}
}

func TestCollectFilters(t *testing.T) {
	full := read(t, "../dataplane/iptables/testdata/kube-proxy-legacy.save")
	node := &fakeNode{out: map[string]string{"/usr/sbin/iptables-legacy-save -c": full, "/usr/sbin/iptables-nft-save -c": "not iptables output\n"}}
	c := newFakeCollector(node, nil, []string{"iptables-legacy-save", "iptables-nft-save"})
	c.Filter = &Filter{Service: "ns1/svc1"}
	s := c.Collect(context.Background())
	legacy, _ := s.Section(IPTablesLegacy)
	if !legacy.Filtered || strings.Contains(legacy.Output, "ns3/svc3") || len(legacy.Output) >= len(full) {
		t.Errorf("legacy not filtered: %+v", legacy.Filtered)
	}
	nft, _ := s.Section(IPTablesNFT)
	if nft.Filtered || nft.Output != "not iptables output\n" || !strings.Contains(nft.Note, "kept whole") {
		t.Errorf("unreadable output should be kept whole with a note: %+v", nft)
	}
}

// The conntrack table is read through netlink and kept to the Service's
// flows; where netlink fails, the conntrack command reads it and the
// section says why.
func TestCollectConntrackThroughNetlink(t *testing.T) {
	a := func(s string) netip.Addr { return netip.MustParseAddr(s) }
	flow := func(dst string, ep string) conntrack.Entry {
		return conntrack.Entry{Protocol: "tcp", Timeout: 100, State: "ESTABLISHED",
			Original: conntrack.Tuple{Src: a("10.244.1.5"), Dst: a(dst), SPort: 40000, DPort: 80},
			Reply:    conntrack.Tuple{Src: a(ep), Dst: a("10.244.1.5"), SPort: 8080, DPort: 40000}}
	}
	svc, other := flow("10.96.0.20", "10.244.1.10"), flow("10.96.0.99", "10.244.1.77")
	node := &fakeNode{out: map[string]string{"/usr/sbin/conntrack -L": conntrack.Format([]conntrack.Entry{other})}}
	c := newFakeCollector(node, nil, []string{"conntrack"})
	c.Filter = &Filter{Service: "default/web", Addresses: []netip.Addr{a("10.96.0.20")}}
	c.Conntrack = func(context.Context) ([]conntrack.Entry, error) { return []conntrack.Entry{svc, other}, nil }
	ct, _ := c.Collect(context.Background()).Section(Conntrack)
	entries, err := conntrack.Parse([]byte(ct.Output))
	if err != nil || ct.Error != "" || !ct.Filtered || len(entries) != 1 || entries[0].Original.Dst != a("10.96.0.20") || !strings.HasPrefix(ct.Source, "netlink") {
		t.Errorf("netlink section %+v: entries %+v, %v", ct, entries, err)
	}
	for _, ran := range node.ran {
		if strings.Contains(ran, "conntrack") {
			t.Errorf("ran %q although netlink answered", ran)
		}
	}

	c.Conntrack = func(context.Context) ([]conntrack.Entry, error) { return nil, errors.New("operation not permitted") }
	ct, _ = c.Collect(context.Background()).Section(Conntrack)
	if ct.Source != "/usr/sbin/conntrack -L" || !strings.Contains(ct.Note, "operation not permitted") {
		t.Errorf("fallback section %+v", ct)
	}
}
