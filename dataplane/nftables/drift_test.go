package nftables

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"

	"github.com/svctrace/kubectl-svctrace/dataplane"
	"github.com/svctrace/kubectl-svctrace/dataplane/dataplanetest"
)

func driftIDs(ds []dataplane.Diff) string {
	var parts []string
	for _, d := range ds {
		parts = append(parts, string(d.Kind)+" "+Place(d.Where))
	}
	return strings.Join(parts, "\n")
}

// layoutFixtures are the tables written in each layout and the fixture
// Services they hold.
var layoutFixtures = []struct {
	fixture string
	layout  Layout
	svcs    []string
}{
	{"v137.json", LayoutV137, []string{"ns1/svc1", "ns2/svc2", "ns4/svc4", "ns5/svc5", "ns6/svc6", "ns7/svc7"}},
	{"legacy.json", LayoutLegacy, []string{"ns1/svc1", "ns4/svc4", "ns6/svc6", "ns7/svc7"}},
}

// The fixtures were written from kube-proxy's own expected dumps, so the
// generator must find no drift in them.
func TestDriftNoneOnFixtures(t *testing.T) {
	for _, tc := range layoutFixtures {
		tbl := loadJSON(t, tc.fixture).KubeProxy("ip")
		fx := fixtureServices()
		for _, name := range tc.svcs {
			opts := v137Opts
			opts.Layout = tc.layout
			e, err := Expected(fx[name].svc, fx[name].eps, opts)
			if err != nil {
				t.Fatal(err)
			}
			if ds := Drift(e, tbl); len(ds) != 0 {
				t.Errorf("%s %s: unexpected drift:\n%s", tc.fixture, name, driftIDs(ds))
			}
		}
	}
}

func TestDrift(t *testing.T) {
	tests := []struct {
		name   string
		svc    string
		eps    func([]*discoveryv1.EndpointSlice) []*discoveryv1.EndpointSlice
		mutate func(*Table)
		want   []string
		hole   dataplane.Diff // facts of the last difference, a numgen hole, when set
	}{
		{name: "service-ips element missing", svc: "ns1/svc1",
			mutate: func(t *Table) { deleteElement(t, MapServiceIPs, "172.30.0.41") },
			want:   []string{"NFTServiceMissing service-ips { 172.30.0.41 . tcp . 80 }"}},
		{name: "service chain missing", svc: "ns1/svc1",
			mutate: func(t *Table) { deleteChain(t, "service-ULMVA6XW-ns1/svc1/tcp/p80") },
			want:   []string{"NFTServiceMissing service-ULMVA6XW-ns1/svc1/tcp/p80"}},
		{name: "wrong element target", svc: "ns1/svc1",
			mutate: func(t *Table) {
				s := t.Set(MapServiceIPs)
				for i, e := range s.Elements {
					if e.Key[0] == "172.30.0.41" {
						s.Elements[i].Value = []string{"goto service-LAUZTJTB-ns4/svc4/tcp/p80"}
					}
				}
			},
			want: []string{"NFTElementWrongTarget service-ips { 172.30.0.41 . tcp . 80 }"}},
		{name: "new ready endpoint not programmed", svc: "ns4/svc4",
			eps: func(es []*discoveryv1.EndpointSlice) []*discoveryv1.EndpointSlice {
				return []*discoveryv1.EndpointSlice{slice("ns4", "svc4", "p80", corev1.ProtocolTCP, 80,
					ep{"10.180.0.4", "other-node", true}, ep{"10.180.0.5", testNode, true}, ep{"10.180.0.6", "other-node", true})}
			},
			want: []string{"NFTEndpointMissing 10.180.0.6:80"}},
		{name: "removed endpoint still programmed", svc: "ns4/svc4",
			eps: func(es []*discoveryv1.EndpointSlice) []*discoveryv1.EndpointSlice {
				return []*discoveryv1.EndpointSlice{slice("ns4", "svc4", "p80", corev1.ProtocolTCP, 80, ep{"10.180.0.4", "other-node", true})}
			},
			want: []string{"NFTEndpointStale 10.180.0.5:80"}},
		{name: "endpoints appeared but reject still in place", svc: "ns6/svc6",
			eps: func(es []*discoveryv1.EndpointSlice) []*discoveryv1.EndpointSlice {
				return []*discoveryv1.EndpointSlice{slice("ns6", "svc6", "p80", corev1.ProtocolTCP, 80, ep{"10.180.0.60", "other-node", true})}
			},
			want: []string{"NFTServiceMissing service-ips { 172.30.0.46 . tcp . 80 }",
				"NFTElementStale no-endpoint-services { 172.30.0.46 . tcp . 80 }",
				"NFTServiceMissing service-Y3O5BOQO-ns6/svc6/tcp/p80"}},
		{name: "affinity endpoint chain missing", svc: "ns5/svc5",
			mutate: func(t *Table) { deleteChain(t, "endpoint-GTK6MW7G-ns5/svc5/tcp/p80__10.180.0.3/80") },
			want:   []string{"NFTEndpointMissing endpoint-GTK6MW7G-ns5/svc5/tcp/p80__10.180.0.3/80", "NFTEndpointMissing 10.180.0.3:80"}},
		{name: "numgen map hole", svc: "ns4/svc4",
			mutate: func(t *Table) { punchTableHole(t, svc4Chain, "1") },
			want:   []string{"NFTEndpointMissing 10.180.0.5:80", "NFTEndpointMissing " + svc4Chain},
			hole:   dataplane.Diff{Service: "ns4/svc4:p80", Missing: []string{"1"}, Of: 2, Lost: 0.5}},
		{name: "numgen map with two holes of three", svc: "ns7/svc7",
			mutate: func(t *Table) {
				punchTableHole(t, "service-2GFRSTKP-ns7/svc7/udp/dns", "1")
				punchTableHole(t, "service-2GFRSTKP-ns7/svc7/udp/dns", "2")
			},
			want: []string{"NFTEndpointMissing 10.180.0.8:53", "NFTEndpointMissing 10.180.0.9:53", "NFTEndpointMissing service-2GFRSTKP-ns7/svc7/udp/dns"},
			hole: dataplane.Diff{Service: "ns7/svc7:dns", Missing: []string{"1", "2"}, Of: 3, Lost: 2.0 / 3}},
		{name: "no table at all", svc: "ns7/svc7",
			mutate: func(t *Table) { *t = *newTable("ip", KubeProxyTable) },
			want: []string{"NFTElementMissing cluster-ips { 172.30.0.47 }", "NFTServiceMissing service-ips { 172.30.0.47 . udp . 53 }",
				"NFTServiceMissing service-2GFRSTKP-ns7/svc7/udp/dns"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tbl := loadJSON(t, "v137.json").KubeProxy("ip")
			fx := fixtureServices()[tt.svc]
			eps := fx.eps
			if tt.eps != nil {
				eps = tt.eps(eps)
			}
			if tt.mutate != nil {
				tt.mutate(tbl)
			}
			e, err := Expected(fx.svc, eps, v137Opts)
			if err != nil {
				t.Fatal(err)
			}
			ds := Drift(e, tbl)
			got := driftIDs(ds)
			if got != strings.Join(tt.want, "\n") {
				t.Errorf("got:\n%s\nwant:\n%s", got, strings.Join(tt.want, "\n"))
			}
			if tt.hole.Of != 0 && len(ds) > 0 {
				h := ds[len(ds)-1]
				if got := (dataplane.Diff{Service: h.Service, Missing: h.Missing, Of: h.Of, Lost: h.Lost}); !cmp.Equal(got, tt.hole, dataplanetest.EquateAddrs) {
					t.Errorf("hole facts %+v, want %+v", got, tt.hole)
				}
			}
			for _, d := range ds {
				if d.Where.Mode != dataplane.ModeNFTables || d.Where.Set == "" && d.Where.Chain == "" {
					t.Errorf("difference without its place %+v", d)
				}
			}
		})
	}
}

func deleteElement(t *Table, set, first string) {
	s := t.Set(set)
	s.Elements = slices.DeleteFunc(s.Elements, func(e knftablesElement) bool { return e.Key[0] == first })
	s.index = nil
}

func deleteChain(t *Table, name string) {
	t.Chains = slices.DeleteFunc(t.Chains, func(c *Chain) bool { return c.Name == name })
	delete(t.chainByName, name)
}
