package nftables

import (
	"maps"
	"net/netip"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"sigs.k8s.io/knftables"

	"github.com/svctrace/kubectl-svctrace/dataplane"
)

// A table written by an older kube-proxy (no hairpin-connections set, a
// mark-for-masquerade chain) is compared with that release's layout, so a
// node in sync has no drift; the v1.37 expectation does find its hairpin
// elements missing, which is what the detection spares.
func TestProxierDriftFollowsTheTablesLayout(t *testing.T) {
	fx := fixtureServices()
	for _, tc := range layoutFixtures {
		rs := loadJSON(t, tc.fixture)
		if got := DetectLayout(rs.KubeProxy("ip")); got != tc.layout {
			t.Errorf("%s: layout %s, want %s", tc.fixture, got, tc.layout)
		}
		var objs dataplane.Objects
		for _, name := range tc.svcs {
			objs.Services = append(objs.Services, fx[name].svc)
			objs.Slices = append(objs.Slices, fx[name].eps...)
		}
		n := dataplane.Node{Name: testNode, Family: corev1.IPv4Protocol,
			Flags: dataplane.ProxyFlags{ClusterCIDR: netip.MustParsePrefix("10.0.0.0/8")}}
		w, err := Proxier{}.Expect(n, objs)
		if err != nil {
			t.Fatal(err)
		}
		if ds := (Proxier{}).Drift(w, rs); len(ds) != 0 {
			t.Errorf("%s: unexpected drift:\n%s", tc.fixture, driftIDs(ds))
		}
		if tc.layout == LayoutLegacy {
			if ds := Drift(w.Services[0], rs.KubeProxy("ip")); len(ds) == 0 {
				t.Errorf("%s: the v1.37 expectation finds no drift in an older table; the test proves nothing", tc.fixture)
			}
		}
	}
}

func TestDetectLayoutWithoutTable(t *testing.T) {
	if got := DetectLayout(nil); got != LayoutV137 {
		t.Errorf("no table: layout %s, want %s", got, LayoutV137)
	}
}

// A table of no known layout (here v1.37's without its hairpin set) is
// compared by behaviour: the hairpin elements it lacks are no drift, an
// endpoint it does not reach still is.
func TestProxierDriftOfAnUnknownLayout(t *testing.T) {
	rs := loadJSON(t, "v137.json")
	tbl := rs.KubeProxy("ip")
	delete(tbl.Sets, SetHairpinConnections)
	if got := DetectLayout(tbl); got != LayoutUnknown {
		t.Fatalf("layout %s, want %s", got, LayoutUnknown)
	}
	fx := fixtureServices()
	objs := dataplane.Objects{Services: []*corev1.Service{fx["ns4/svc4"].svc}, Slices: fx["ns4/svc4"].eps}
	n := dataplane.Node{Name: testNode, Family: corev1.IPv4Protocol,
		Flags: dataplane.ProxyFlags{ClusterCIDR: netip.MustParsePrefix("10.0.0.0/8")}}
	w, err := Proxier{}.Expect(n, objs)
	if err != nil {
		t.Fatal(err)
	}
	if ds := Drift(w.Services[0], tbl); len(ds) == 0 {
		t.Fatal("the v1.37 expectation finds no hairpin element missing; the test proves nothing")
	}
	if ds := (Proxier{}).Drift(w, rs); len(ds) != 0 {
		t.Errorf("unexpected drift:\n%s", driftIDs(ds))
	}
	punchHole(t, rs, "service-LAUZTJTB-ns4/svc4/tcp/p80", "0")
	if ds := (Proxier{}).Drift(w, rs); len(ds) == 0 {
		t.Error("an endpoint the service chain no longer reaches is no drift")
	}
}

// Before v1.36 a Local internal policy moves the off-cluster masquerade
// rule to the local chain (kube-proxy v1.34's internalTrafficChain), and
// without local endpoints there is neither chain nor rule.
func TestLegacyMasqueradesInTheInternalTrafficChain(t *testing.T) {
	local := corev1.ServiceInternalTrafficPolicyLocal
	s := svc("ns8", "svc8", func(s *corev1.Service) {
		s.Spec.ClusterIP = "172.30.0.48"
		s.Spec.InternalTrafficPolicy = &local
	})
	opts := v137Opts
	opts.Layout = LayoutLegacy
	masq := "ip daddr 172.30.0.48 ip saddr != 10.0.0.0/8 jump mark-for-masquerade"
	for _, tc := range []struct {
		node string
		want map[string]bool // chain → has the masquerade rule
	}{
		{testNode, map[string]bool{LocalChain(PortName{Namespace: "ns8", Name: "svc8", Protocol: "tcp", Port: "p80"}): true}},
		{"other-node", map[string]bool{}}, // no local endpoint: no chain for ClusterIP traffic
	} {
		eps := []*discoveryv1.EndpointSlice{slice("ns8", "svc8", "p80", corev1.ProtocolTCP, 80, ep{"10.180.0.8", tc.node, true})}
		e, err := Expected(s, eps, opts)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]bool{}
		for _, c := range e.Ports[0].Chains {
			if c.Name == ServiceChain(e.Ports[0].Name) || c.Name == LocalChain(e.Ports[0].Name) {
				got[c.Name] = slices.ContainsFunc(c.Rules, func(r knftables.Rule) bool { return r.Rule == masq })
			}
		}
		if !maps.Equal(got, tc.want) {
			t.Errorf("endpoint on %s: chains with the masquerade rule %v, want %v", tc.node, got, tc.want)
		}
	}
}
