package nftables

import (
	"maps"
	"net/netip"
	"os"
	"regexp"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/knftables"

	"github.com/svctrace/kubectl-svctrace/dataplane"
	"github.com/svctrace/kubectl-svctrace/dataplane/dataplanetest"
)

// fakeObjects reads a file of nft commands (testdata/v137.nft, what nft
// loaded to list testdata/v137.json) with knftables' own parser and
// returns its objects.
func fakeObjects(t *testing.T, name string) []knftables.Object {
	t.Helper()
	data, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	fake := knftables.NewFake(knftables.IPv4Family, KubeProxyTable)
	if err := fake.ParseDump(regexp.MustCompile(`(?m)^#.*\n`).ReplaceAllString(string(data), "")); err != nil {
		t.Fatalf("knftables cannot read %s: %v", name, err)
	}
	return dataplanetest.KnftablesObjects(fake.Table)
}

// TestRulesetOfMatchesNFT: the rules kube-proxy sends, read by ParseRule,
// are the rules nft lists for them. testdata/v137.json is what nft 1.0.6
// listed after loading testdata/v137.nft.
func TestRulesetOfMatchesNFT(t *testing.T) {
	rs, err := RulesetOf(knftables.IPv4Family, fakeObjects(t, "v137.nft"))
	if err != nil {
		t.Fatal(err)
	}
	want := loadJSON(t, "v137.json").KubeProxy(knftables.IPv4Family)
	if diff := cmp.Diff(want.Dump(), rs.KubeProxy(knftables.IPv4Family).Dump()); diff != "" {
		t.Errorf("ruleset from kube-proxy's commands differs from nft's listing (-nft +parsed):\n%s", diff)
	}
}

// v137Node is the node of testdata/v137.*: kube-proxy's flags and the
// cluster's ServiceCIDR there.
var v137Node = dataplane.Node{Name: testNode, IPs: []netip.Addr{netip.MustParseAddr("192.168.0.2")}, Family: corev1.IPv4Protocol,
	Flags: dataplane.ProxyFlags{ClusterCIDR: netip.MustParsePrefix("10.0.0.0/8")}}

// TestMaterializeMatchesKubeProxy: what Materialize makes for the Services
// of testdata/v137.* is the table nft listed for kube-proxy v1.37's
// commands, handles aside.
func TestMaterializeMatchesKubeProxy(t *testing.T) {
	var objs dataplane.Objects
	fx := fixtureServices()
	for _, name := range slices.Sorted(maps.Keys(fx)) {
		objs.Services = append(objs.Services, fx[name].svc)
		objs.Slices = append(objs.Slices, fx[name].eps...)
	}
	objs.ServiceCIDRs = []netip.Prefix{netip.MustParsePrefix("172.30.0.0/16"), netip.MustParsePrefix("fd00:30::/108")}
	want, err := Proxier{}.Expect(v137Node, objs)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Proxier{}.Materialize(want)
	if err != nil {
		t.Fatal(err)
	}
	nft := loadJSON(t, "v137.json").KubeProxy(knftables.IPv4Family)
	if diff := cmp.Diff(nft.Dump(), got.KubeProxy(knftables.IPv4Family).Dump()); diff != "" {
		t.Errorf("materialized table differs from kube-proxy's (-kube-proxy +materialized):\n%s", diff)
	}
	if diffs := (Proxier{}).Drift(want, got); len(diffs) != 0 {
		t.Errorf("a node in sync drifts: %+v", diffs)
	}
}

// TestParseRuleSortsInlineAddresses: nft lists an inline set of addresses
// sorted, whatever order kube-proxy wrote (a Service's
// loadBalancerSourceRanges).
func TestParseRuleSortsInlineAddresses(t *testing.T) {
	stmts, err := ParseRule(knftables.IPv4Family, "ip saddr != { 203.0.113.0/24, 198.51.100.128/25, 10.0.0.1 } drop")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := stmtsText(stmts), "ip saddr != { 10.0.0.1, 198.51.100.128/25, 203.0.113.0/24 } drop"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}
