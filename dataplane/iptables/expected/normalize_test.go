package expected

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	corev1 "k8s.io/api/core/v1"
)

func TestNormalize(t *testing.T) {
	v4, v6 := corev1.IPv4Protocol, corev1.IPv6Protocol
	tests := []struct {
		name   string
		family corev1.IPFamily
		spec   string
		want   string
	}{
		{"old five-decimal probability", v4, "-m statistic --mode random --probability 0.33333 -j X",
			"-A C -m statistic --mode random --probability 0.33332999982 -j X"},
		{"ten-decimal probability", v4, "-m statistic --mode random --probability 0.3333333333 -j X",
			"-A C -m statistic --mode random --probability 0.33333333349 -j X"},
		{"nfacct", v4, "-m comment --comment ns/a:b -m tcp -p tcp -d 127.0.0.0/8 --dport 3001 -m nfacct --nfacct-name localhost_nps_accepted_pkts -j KUBE-EXT-X",
			// A real node prints two spaces before the counter name (see save_match.go).
			`-A C -d 127.0.0.0/8 -p tcp -m comment --comment "ns/a:b" -m tcp --dport 3001 -m nfacct --nfacct-name  localhost_nps_accepted_pkts -j KUBE-EXT-X`},
		{"bare comment stays bare", v4, "-m comment --comment kube_proxy-1 -j RETURN",
			"-A C -m comment --comment kube_proxy-1 -j RETURN"},
		{"comment escapes", v4, `-m comment --comment "say \"hi\" it's" -j RETURN`,
			`-A C -m comment --comment "say \"hi\" it\'s" -j RETURN`},
		{"set-mark without mask", v4, "-j MARK --set-mark 0x1", "-A C -j MARK --set-xmark 0x1/0xffffffff"},
		{"mark without mask", v4, "-m mark --mark 0x4000 -j ACCEPT", "-A C -m mark --mark 0x4000 -j ACCEPT"},
		{"host bits cleared", v4, "-s 10.244.1.7/16 -j X", "-A C -s 10.244.0.0/16 -j X"},
		{"interface detector", v4, "! -i veth+ -j X", "-A C ! -i veth+ -j X"},
		{"ipv6 address", v6, "-d fd00::0001 -j REJECT", "-A C -d fd00::1/128 -j REJECT --reject-with icmp6-port-unreachable"},
		{"conntrack state order", v4, "-m conntrack --ctstate ESTABLISHED,RELATED,NEW -j ACCEPT",
			"-A C -m conntrack --ctstate NEW,RELATED,ESTABLISHED -j ACCEPT"},
		{"udp ports", v4, "-m udp -p udp --dport 53 --sport 1000 -j X", "-A C -p udp -m udp --sport 1000 --dport 53 -j X"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Normalize(tc.family, Rule{Table: TableNAT, Chain: "C", Spec: tc.spec})
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("Normalize:\n got  %s\n want %s", got, tc.want)
			}
		})
	}
}

func TestNormalizeErrors(t *testing.T) {
	for _, spec := range []string{"-j MARK --or-mark zz", "-d", "stray", "-d 10.0.0.300 -j X", "-m conntrack --ctstate BOGUS -j X"} {
		if _, err := Normalize(corev1.IPv4Protocol, Rule{Chain: "C", Spec: spec}); err == nil {
			t.Errorf("Normalize(%q) succeeded, want an error", spec)
		}
	}
}

func TestSplitArgs(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{`-m comment --comment "a b" -j X`, []string{"-m", "comment", "--comment", "a b", "-j", "X"}},
		{`--comment ""  -j  X`, []string{"--comment", "", "-j", "X"}},
		{`--comment "q\"uote\\d"`, []string{"--comment", `q"uote\d`}},
		{`--comment pre"fix x"post y`, []string{"--comment", "prefix xpost", "y"}},
		{"", []string{}},
	}
	for _, tc := range tests {
		if got := splitArgs(tc.in); !cmp.Equal(got, tc.want) {
			t.Errorf("splitArgs(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
