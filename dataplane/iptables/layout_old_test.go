package iptables

import (
	"strings"
	"testing"
)

func parseFile(t *testing.T, name string) *Dump {
	t.Helper()
	d, err := Parse(readText(t, name))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return d
}

// Rules of current releases show no sign of an older layout; an old
// release's show each of its three.
func TestOlderLayout(t *testing.T) {
	for _, name := range []string{"kube-proxy.restore", "kube-proxy-nft.save", "kube-proxy-legacy.save", "loadbalancer-firewall.save"} {
		if signs := (Proxier{}).OlderLayout(parseFile(t, name)); signs != nil {
			t.Errorf("%s: signs of an older layout %q", name, signs)
		}
	}
	old := parseFile(t, "../../../testdata/dumps/web-old-kube-proxy.iptables-save")
	signs := (Proxier{}).OlderLayout(old)
	want := []string{"masquerade marks set in KUBE-SERVICES", `"default/web:"`, `"-> ENDPOINT"`}
	if len(signs) != len(want) {
		t.Fatalf("signs %q, want %d", signs, len(want))
	}
	for i, w := range want {
		if !strings.Contains(signs[i], w) {
			t.Errorf("sign %d %q, want it to name %s", i, signs[i], w)
		}
	}
	flags, _ := InferFlags(old)
	if flags.ClusterCIDR.String() != "10.244.0.0/16" {
		t.Errorf("cluster CIDR read from the old KUBE-SERVICES masquerade rule: %v", flags.ClusterCIDR)
	}
}
