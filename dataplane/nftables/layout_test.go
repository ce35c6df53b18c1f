package nftables

import (
	"net/netip"
	"testing"

	corev1 "k8s.io/api/core/v1"

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
