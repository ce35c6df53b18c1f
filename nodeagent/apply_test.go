package nodeagent

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/svctrace/kubectl-svctrace/snapshot"
	"github.com/svctrace/kubectl-svctrace/trace"
)

func legacySave(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../dataplane/iptables/testdata/kube-proxy-legacy.save")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func snap(sections ...snapshot.Section) *snapshot.Snapshot {
	return &snapshot.Snapshot{Format: snapshot.Format, Node: "node-2", Sections: sections}
}

const emptyNat = "*nat\n:PREROUTING ACCEPT [0:0]\nCOMMIT\n"

func TestApplyPicksKubeProxysBackend(t *testing.T) {
	s := snap(
		snapshot.Section{Name: snapshot.IPTablesLegacy, Source: "chroot /host /usr/sbin/iptables-legacy-save -c", Output: emptyNat},
		snapshot.Section{Name: snapshot.IPTablesNFT, Source: "chroot /host /usr/sbin/iptables-nft-save -c", Output: legacySave(t)},
		snapshot.Section{Name: snapshot.ProxyMode, Output: "iptables"},
		snapshot.Section{Name: snapshot.Conntrack, Source: "conntrack -L", Output: ""},
	)
	d := &trace.DataplaneInput{}
	mode, err := Apply(s, d)
	if err != nil || mode != "iptables" {
		t.Fatalf("Apply: %q, %v", mode, err)
	}
	if d.IPTables == nil || !strings.Contains(d.IPTablesName, "iptables-nft-save") || !strings.Contains(d.IPTablesName, "node/node-2") {
		t.Errorf("iptables input %q", d.IPTablesName)
	}
	if d.Node != "node-2" || d.ConntrackName == "" || d.Conntrack != nil {
		t.Errorf("node %q conntrack %q %v", d.Node, d.ConntrackName, d.Conntrack)
	}
}

func TestApplyFailedSection(t *testing.T) {
	s := snap(snapshot.Section{Name: snapshot.NFT, Source: "nft -j list ruleset", Error: "nft not found on the host or in the agent image"},
		snapshot.Section{Name: snapshot.ProxyMode, Output: "nftables\n"})
	_, err := Apply(s, &trace.DataplaneInput{})
	if err == nil || !strings.Contains(err.Error(), "nft not found") || !strings.Contains(err.Error(), "node-2") {
		t.Fatalf("Apply: %v", err)
	}
}

func ids(fs []trace.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.ID)
	}
	slices.Sort(out)
	return out
}

func TestHealthFindings(t *testing.T) {
	refused := "dial tcp 127.0.0.1:10256: connect: connection refused"
	for _, tc := range []struct {
		name string
		s    *snapshot.Snapshot
		want []string
	}{
		{"healthy", snap(
			snapshot.Section{Name: snapshot.Healthz, Output: `{"lastUpdated": "x"}`},
			snapshot.Section{Name: snapshot.Metrics, Output: "kubeproxy_sync_proxy_rules_last_timestamp_seconds 1.7e9\nkubeproxy_sync_proxy_rules_last_queued_timestamp_seconds 1.7e9\n"},
			snapshot.Section{Name: snapshot.IPTablesNFT, Output: legacySave(t)},
			snapshot.Section{Name: snapshot.IPTablesLegacy, Output: emptyNat},
		), nil},
		{"not running", snap(
			snapshot.Section{Name: snapshot.Healthz, Source: "http://127.0.0.1:10256/healthz", Error: refused},
			snapshot.Section{Name: snapshot.Metrics, Error: refused},
		), []string{KubeProxyNotRunning}},
		{"unhealthy, hung, failing, mixed", snap(
			snapshot.Section{Name: snapshot.Healthz, Output: `{"lastUpdated": "2026-12-04 18:00:00"}`, Error: "answered 503 Service Unavailable"},
			snapshot.Section{Name: snapshot.Metrics, Output: "# TYPE kubeproxy_sync_proxy_rules_last_timestamp_seconds gauge\n" +
				"kubeproxy_sync_proxy_rules_last_timestamp_seconds{ip_family=\"IPv4\"} 1.7e9\n" +
				"kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds 1.7000006e9\n" +
				"kubeproxy_sync_proxy_rules_iptables_restore_failures_total 3\n"},
			snapshot.Section{Name: snapshot.IPTablesNFT, Output: legacySave(t)},
			snapshot.Section{Name: snapshot.IPTablesLegacy, Output: legacySave(t)},
		), []string{KubeProxyHung, KubeProxyRestoreFailures, KubeProxyUnhealthy, MixedIPTablesBackends}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := HealthFindings(tc.s)
			if got := ids(fs); !slices.Equal(got, tc.want) {
				t.Errorf("findings %v, want %v", got, tc.want)
			}
			for _, f := range fs {
				if f.Subject != "node/node-2" || f.Hint == "" || !strings.Contains(f.Message, "node-2") {
					t.Errorf("finding %+v: want subject, message naming the node, and a hint", f)
				}
			}
		})
	}
}
