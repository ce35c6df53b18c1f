package nftables

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
)

var v137Opts = ExpectOptions{NodeName: testNode, ClusterCIDR: "10.0.0.0/8", Layout: LayoutV137}

func renderExpected(e *ExpectedService) string {
	var b strings.Builder
	fmt.Fprintf(&b, "service %s/%s %s clusterIP %s\n", e.Namespace, e.Name, e.Family, e.ClusterIP)
	for _, p := range e.Ports {
		fmt.Fprintf(&b, "  port %s endpoints %v local %v\n", p.Name, p.Endpoints, p.LocalEndpoints)
		for _, el := range p.Elements {
			name, c := el.Map+el.Set, ""
			if el.Comment != nil {
				c = " comment " + *el.Comment
			}
			fmt.Fprintf(&b, "    element %s { %s%s", name, strings.Join(el.Key, " . "), c)
			if len(el.Value) > 0 {
				fmt.Fprintf(&b, " : %s", strings.Join(el.Value, " . "))
			}
			b.WriteString(" }\n")
		}
		for _, c := range p.Chains {
			fmt.Fprintf(&b, "    chain %s\n", c.Name)
			for _, r := range c.Rules {
				fmt.Fprintf(&b, "      %s\n", r.Rule)
			}
		}
	}
	return b.String()
}

func TestExpectedGolden(t *testing.T) {
	for _, layout := range []Layout{LayoutV137, LayoutLegacy} {
		t.Run(string(layout), func(t *testing.T) {
			fx := fixtureServices()
			keys := make([]string, 0, len(fx))
			for k := range fx {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			var b strings.Builder
			opts := v137Opts
			opts.Layout = layout
			for _, k := range keys {
				e, err := Expected(fx[k].svc, fx[k].eps, opts)
				if err != nil {
					t.Fatal(err)
				}
				b.WriteString(renderExpected(e))
			}
			checkGolden(t, "expected_"+strings.ReplaceAll(string(layout), ".", ""), b.String())
		})
	}
}

// TestExpectedRuleText pins rule texts to what kube-proxy v1.37.2's own
// tests expect (pkg/proxy/nftables/proxier_test.go).
func TestExpectedRuleText(t *testing.T) {
	fx := fixtureServices()
	tests := []struct {
		svc, chain string
		want       []string
	}{
		{"ns1/svc1", "service-ULMVA6XW-ns1/svc1/tcp/p80", []string{"meta l4proto tcp dnat to 10.180.0.1:80"}},
		{"ns4/svc4", "service-LAUZTJTB-ns4/svc4/tcp/p80", []string{"meta l4proto tcp dnat ip addr . port to numgen random mod 2 map { 0 : 10.180.0.4 . 80 , 1 : 10.180.0.5 . 80 }"}},
		{"ns4/svc4", "external-LAUZTJTB-ns4/svc4/tcp/p80", []string{"mark set mark or 0x4000", "goto service-LAUZTJTB-ns4/svc4/tcp/p80"}},
		{"ns2/svc2", "external-42NFTM6N-ns2/svc2/tcp/p80", []string{
			"ip saddr 10.0.0.0/8 goto service-42NFTM6N-ns2/svc2/tcp/p80",
			"fib saddr type local mark set mark or 0x4000",
			"fib saddr type local goto service-42NFTM6N-ns2/svc2/tcp/p80"}},
		{"ns5/svc5", "service-HVFWP5L3-ns5/svc5/tcp/p80", []string{
			"ip saddr @affinity-GTK6MW7G-ns5/svc5/tcp/p80__10.180.0.3/80 goto endpoint-GTK6MW7G-ns5/svc5/tcp/p80__10.180.0.3/80",
			"numgen random mod 1 vmap { 0 : goto endpoint-GTK6MW7G-ns5/svc5/tcp/p80__10.180.0.3/80 }"}},
		{"ns5/svc5", "endpoint-GTK6MW7G-ns5/svc5/tcp/p80__10.180.0.3/80", []string{
			"update @affinity-GTK6MW7G-ns5/svc5/tcp/p80__10.180.0.3/80 { ip saddr }",
			"meta l4proto tcp dnat to 10.180.0.3:80"}},
		{"ns5/svc5", "firewall-HVFWP5L3-ns5/svc5/tcp/p80", []string{"ip saddr != { 203.0.113.0/25 } drop"}},
	}
	for _, tt := range tests {
		e, err := Expected(fx[tt.svc].svc, fx[tt.svc].eps, v137Opts)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, c := range e.Ports[0].Chains {
			if c.Name == tt.chain {
				for _, r := range c.Rules {
					got = append(got, r.Rule)
				}
			}
		}
		if d := cmp.Diff(tt.want, got); d != "" {
			t.Errorf("%s %s (-want +got):\n%s", tt.svc, tt.chain, d)
		}
	}
}

func TestExpectedNoRules(t *testing.T) {
	headless := svc("ns", "headless", func(s *corev1Service) { s.Spec.ClusterIP = "None" })
	ext := svc("ns", "ext", func(s *corev1Service) { s.Spec.Type = "ExternalName"; s.Spec.ClusterIP = "" })
	v4only := svc("ns", "v4", func(s *corev1Service) { s.Spec.ClusterIP = "172.30.0.9" })
	for _, tc := range []struct {
		s    *corev1Service
		opts ExpectOptions
	}{{headless, v137Opts}, {ext, v137Opts}, {v4only, ExpectOptions{Family: "ip6"}}} {
		e, err := Expected(tc.s, nil, tc.opts)
		if err != nil || len(e.Ports) != 0 {
			t.Errorf("%s: got %d ports, err %v; want none", tc.s.Name, len(e.Ports), err)
		}
	}
	if _, err := Expected(nil, nil, v137Opts); err == nil {
		t.Error("nil service: want an error")
	}
}

// With zone hints on every endpoint a node in zone-a load-balances over the
// zone-a endpoints only; a node in a zone no hint names ignores the hints.
func TestExpectedZoneHints(t *testing.T) {
	s := svc("ns", "web", func(s *corev1Service) { s.Spec.ClusterIP = "172.30.0.9" })
	sl := slice("ns", "web", "p80", "TCP", 8080, ep{"10.0.1.1", "node-a", true}, ep{"10.0.2.1", "node-b", true}, ep{"10.0.1.2", "node-c", true})
	for i, zone := range []string{"a", "b", "a"} {
		sl.Endpoints[i].Hints = &discoveryv1.EndpointHints{ForZones: []discoveryv1.ForZone{{Name: zone}}}
	}
	for zone, want := range map[string][]string{"a": {"10.0.1.1:8080", "10.0.1.2:8080"}, "z": {"10.0.1.1:8080", "10.0.1.2:8080", "10.0.2.1:8080"}} {
		opts := v137Opts
		opts.NodeName, opts.Zone = "node-a", zone
		e, err := Expected(s, []*discoveryv1.EndpointSlice{sl}, opts)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, ap := range e.Ports[0].Endpoints {
			got = append(got, ap.String())
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("node in zone %s: endpoints (-want +got):\n%s", zone, diff)
		}
	}
}

// Two rules of newBaseServiceInfo/ExternalPolicyLocal: a ClusterIP Service
// with external IPs honours externalTrafficPolicy: Local, and a /0 source
// range means no firewall at all.
func TestExpectedExternalPolicyAndZeroRange(t *testing.T) {
	local := svc("ns", "ext", func(s *corev1Service) {
		s.Spec.ClusterIP = "172.30.0.9"
		s.Spec.ExternalIPs = []string{"192.0.2.10"}
		s.Spec.ExternalTrafficPolicy = "Local"
	})
	sl := slice("ns", "ext", "p80", "TCP", 8080, ep{"10.0.1.1", testNode, true}, ep{"10.0.2.1", "other", true})
	e, err := Expected(local, []*discoveryv1.EndpointSlice{sl}, v137Opts)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range e.Ports[0].Chains {
		names = append(names, c.Name)
	}
	if !slices.Contains(names, LocalChain(e.Ports[0].Name)) {
		t.Errorf("chains %v lack the local chain that externalTrafficPolicy: Local needs", names)
	}
	if got := e.Ports[0].LocalEndpoints; len(got) != 1 || got[0].String() != "10.0.1.1:8080" {
		t.Errorf("local endpoints %v, want 10.0.1.1:8080", got)
	}

	open := svc("ns", "lb", func(s *corev1Service) {
		s.Spec.Type = "LoadBalancer"
		s.Spec.ClusterIP = "172.30.0.10"
		s.Spec.LoadBalancerSourceRanges = []string{"203.0.113.0/24", "0.0.0.0/0"}
		s.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: "5.6.7.9"}}
	})
	e, err = Expected(open, []*discoveryv1.EndpointSlice{slice("ns", "lb", "p80", "TCP", 8080, ep{"10.0.1.1", testNode, true})}, v137Opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, el := range e.Ports[0].Elements {
		if el.Map == MapFirewallIPs {
			t.Errorf("firewall element %v written although a source range is 0.0.0.0/0", el.Key)
		}
	}
}
