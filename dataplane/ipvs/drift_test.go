package ipvs

import (
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"

	"github.com/svctrace/kubectl-svctrace/dataplane"
)

func TestDrift(t *testing.T) {
	svc := service("web", corev1.ServiceTypeClusterIP, []string{"10.96.0.10"}, port("http", corev1.ProtocolTCP, 80, 0), port("dns", corev1.ProtocolUDP, 53, 0))
	eps := []discoveryv1.EndpointPort{slicePortOf("http", corev1.ProtocolTCP, 8080), slicePortOf("dns", corev1.ProtocolUDP, 5353)}
	slices := []*discoveryv1.EndpointSlice{slice("web", discoveryv1.AddressTypeIPv4, eps,
		ep("10.244.1.7", "node-a", true, true, false),
		ep("10.244.2.8", "node-b", true, true, false),
		ep("10.244.3.9", "node-b", false, true, true))}
	exp, err := ExpectedFor(svc, slices, nodeA)
	if err != nil {
		t.Fatal(err)
	}
	rs := func(ip string, port uint16, w int) RealServer {
		return RealServer{Address: netip.MustParseAddr(ip), Port: port, Weight: w, Forward: Masquerade}
	}
	tcpKey := "10.96.0.10:80/TCP"
	udpKey := "10.96.0.10:53/UDP"
	edit := func(f func(t *Table)) Table {
		tbl := exp.Table()
		f(&tbl)
		return tbl
	}
	find := func(t *Table, key string) *VirtualServer {
		for i := range t.VirtualServers {
			if t.VirtualServers[i].Key() == key {
				return &t.VirtualServers[i]
			}
		}
		return nil
	}
	for _, tc := range []struct {
		name   string
		actual Table
		want   []string
	}{
		{"in sync", exp.Table(), nil},
		{"terminating drained away", edit(func(t *Table) {
			v := find(t, tcpKey)
			v.RealServers = v.RealServers[:2]
		}), nil},
		{"removed TCP endpoint still draining", edit(func(t *Table) {
			v := find(t, tcpKey)
			v.RealServers = append(v.RealServers, rs("10.244.5.5", 8080, 0))
		}), nil},
		{"virtual server missing", edit(func(t *Table) { t.VirtualServers = t.VirtualServers[:1] }),
			[]string{string(VirtualServerMissing) + " " + udpKey}},
		{"real server missing", edit(func(t *Table) { find(t, tcpKey).RealServers = find(t, tcpKey).RealServers[1:] }),
			[]string{string(RealServerMissing) + " " + tcpKey + " -> 10.244.1.7:8080"}},
		{"stale UDP real server even at weight 0", edit(func(t *Table) {
			v := find(t, udpKey)
			v.RealServers = append(v.RealServers, rs("10.244.9.9", 5353, 0))
		}), []string{string(StaleRealServer) + " " + udpKey + " -> 10.244.9.9:5353"}},
		{"stale TCP real server with weight", edit(func(t *Table) {
			v := find(t, tcpKey)
			v.RealServers = append(v.RealServers, rs("10.244.9.9", 8080, 1))
		}), []string{string(StaleRealServer) + " " + tcpKey + " -> 10.244.9.9:8080"}},
		{"terminating still weighted", edit(func(t *Table) { find(t, tcpKey).RealServers[2].Weight = 1 }),
			[]string{string(WeightMismatch) + " " + tcpKey + " -> 10.244.3.9:8080"}},
		{"scheduler and persistence", edit(func(t *Table) {
			v := find(t, tcpKey)
			v.Scheduler, v.Flags, v.Timeout = "wlc", FlagPersistent, 60
		}), []string{string(SchedulerMismatch) + " " + tcpKey, string(PersistenceMismatch) + " " + tcpKey}},
		{"forwarding", edit(func(t *Table) { find(t, udpKey).RealServers[0].Forward = Route }),
			[]string{string(ForwardMismatch) + " " + udpKey + " -> 10.244.1.7:5353"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, f := range Drift(exp, tc.actual) {
				got = append(got, string(f.Kind)+" "+Place(f.Where))
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDriftFacts(t *testing.T) {
	exp := Expected{VirtualServers: []ExpectedVirtualServer{{VirtualServer: vsWith("rr", 1), Role: RoleClusterIP, PortName: "default/web:http"}}}
	got := Drift(exp, Table{})
	want := []dataplane.Diff{{
		Kind: VirtualServerMissing, Where: dataplane.Locator{Mode: dataplane.ModeIPVS, Family: "IPv4", Chain: "10.96.0.10:80/TCP", Protocol: "TCP", Service: netip.MustParseAddrPort("10.96.0.10:80")},
		Service: "default/web:http", Role: "cluster IP",
	}}
	if diff := cmp.Diff(want, got, cmpopts.EquateComparable(netip.AddrPort{}, netip.Addr{})); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
