package trace_test

import (
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/svctrace/kubectl-svctrace/internal/scenario"
	"github.com/svctrace/kubectl-svctrace/trace"
)

// Rules written by an old kube-proxy release do the same job as today's
// with other rules: they are compared by what packets meet. A healthy
// node gets one info finding; a changed split, a lost endpoint and a lost
// masquerade mark each get WalkOutcomeDiffers, placed at the chain that
// decided the outcome.
func TestOlderIPTablesLayoutIsComparedByWalks(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(scenario.Dir(), "..", "dumps", "web-old-kube-proxy.iptables-save"))
	if err != nil {
		t.Fatal(err)
	}
	old := string(raw)
	sep12 := endpointChain(t, old, "10.244.1.12:8080")
	cases := []struct {
		name string
		dump string
		// want are the dataplane findings as "ID subject".
		want []string
		// message is a part of every WalkOutcomeDiffers message.
		message string
	}{
		{"healthy", old, nil, ""},
		{"split changed", strings.Replace(old, "--probability 0.50000000000", "--probability 0.20000000000", 1),
			[]string{"WalkOutcomeDiffers iptables/nat/KUBE-SEP-3CSYLVX2SF6Z4TWH", "WalkOutcomeDiffers iptables/nat/" + sep12}, "through the node's rules"},
		// Kube-proxy's chain for the lost endpoint is named as the generator
		// names it; the packets that fall through leave the old KUBE-SVC chain.
		{"endpoint chain lost", dropLines(old, sep12),
			[]string{"WalkOutcomeDiffers iptables/nat/KUBE-SEP-5OCWPZKODR2CLL6E", "WalkOutcomeDiffers iptables/nat/KUBE-SVC-BIJGBSD4RZCCZX5R"}, "%"},
		// Given the cluster CIDR (the dump no longer says it), a packet from
		// the node must be masqueraded on its way to every endpoint.
		{"masquerade mark lost", dropLines(old, "! -s 10.244.0.0/16 -d 10.96.0.20/32"),
			[]string{"WalkOutcomeDiffers iptables/nat/KUBE-SEP-3CSYLVX2SF6Z4TWH", "WalkOutcomeDiffers iptables/nat/KUBE-SEP-WKX5DYD4EDWWBSAD", "WalkOutcomeDiffers iptables/nat/KUBE-SEP-ZZD5ZBPEVWNPHUYC"},
			"not masqueraded by the node's rules, masqueraded by the rules kube-proxy should write now"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := input(t, "healthy.yaml", "web", &trace.DataplaneInput{Node: "node-1", IPTables: parse(t, tc.dump), IPTablesName: "old.save", ClusterCIDR: netip.MustParsePrefix("10.244.0.0/16")})
			tr := trace.Build(in)
			var got []string
			info := 0
			for _, f := range tr.Findings {
				switch {
				case f.ID == trace.IPTablesLayoutOlder:
					info++
				case f.Where != nil:
					got = append(got, f.ID+" "+f.Subject)
					if !strings.Contains(f.Message, tc.message) {
						t.Errorf("message %q does not say %q", f.Message, tc.message)
					}
				}
			}
			slices.Sort(got)
			if info != 1 {
				t.Errorf("%d IPTablesLayoutOlder findings, want 1", info)
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("dataplane findings (-want +got):\n%s", d)
			}
		})
	}
}
