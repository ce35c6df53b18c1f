package demo

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"sigs.k8s.io/knftables"

	"github.com/svctrace/kubectl-svctrace/dataplane"
	"github.com/svctrace/kubectl-svctrace/dataplane/nftables"
)

// TestMaterializeMatchesTheDemoDump: for the demo's Service, the table
// nftables.Proxier materializes is what real kube-proxy v1.37.2 wrote on
// node-1 (node-1.nft.json), handles aside. The dump also holds the
// cluster's other Services (kubernetes, kube-dns), whose EndpointSlices
// the demo does not carry: their chains and elements are left out of the
// comparison, everything else (the base layout and the Service's chains,
// rules and elements) is compared.
func TestMaterializeMatchesTheDemoDump(t *testing.T) {
	all, err := Objects()
	if err != nil {
		t.Fatal(err)
	}
	var objs dataplane.Objects
	for _, o := range all {
		switch o := o.(type) {
		case *corev1.Service:
			if o.Name == Service {
				objs.Services = append(objs.Services, o)
			}
		case *discoveryv1.EndpointSlice:
			if o.Labels[discoveryv1.LabelServiceName] == Service {
				objs.Slices = append(objs.Slices, o)
			}
		}
	}
	// The harness's cluster: --cluster-cidr and --service-cluster-ip-range.
	objs.ServiceCIDRs = []netip.Prefix{netip.MustParsePrefix("10.96.0.0/16")}
	node := dataplane.Node{Name: Node, Zone: "zone-a", IPs: []netip.Addr{netip.MustParseAddr("172.18.0.2")}, Family: corev1.IPv4Protocol,
		Flags: dataplane.ProxyFlags{ClusterCIDR: netip.MustParsePrefix("10.244.0.0/16")}}
	got, dump := materializeBesideDemo(t, node, objs)
	node1 := withoutOtherServices(dump.KubeProxy(knftables.IPv4Family).Dump())
	if d := cmp.Diff(node1, got.KubeProxy(knftables.IPv4Family).Dump()); d != "" {
		t.Errorf("materialized table differs from node-1's (-kube-proxy +materialized):\n%s", d)
	}
}

// withoutOtherServices drops from a table's Dump the chains of Services
// other than the demo's, and the set and map elements that are not the
// demo Service's (its cluster IP 10.96.0.150, its chains, its endpoints'
// port 9376) or the node's (nodeport-ips).
func withoutOtherServices(dump string) string {
	var b strings.Builder
	keep, section := true, ""
	for _, line := range strings.SplitAfter(dump, "\n") {
		if !strings.HasPrefix(line, "\t") {
			f := strings.Fields(line)
			section = ""
			if len(f) > 1 {
				section = f[0] + " " + f[1]
			}
			keep = !(len(f) > 1 && f[0] == "chain" && strings.Contains(f[1], "/") && !strings.Contains(f[1], "-"+Namespace+"/"+Service+"/"))
			if keep {
				b.WriteString(line)
			}
			continue
		}
		isElement := strings.HasPrefix(section, "set ") || strings.HasPrefix(section, "map ")
		ours := section == "set nodeport-ips" || strings.Contains(line, "10.96.0.150") || strings.Contains(line, Namespace+"/"+Service+"/") || strings.Contains(line, " . 9376")
		if keep && (!isElement || ours) {
			b.WriteString(line)
		}
	}
	return b.String()
}

// TestMaterializeMatchesTheDemoDumpIPv6: node-1 has no IPv6 address and
// the cluster no IPv6 Service, CIDR or ServiceCIDR, so its ip6 table is
// kube-proxy's base layout alone, NodePorts accepted on every local
// address: Materialize makes it whole.
func TestMaterializeMatchesTheDemoDumpIPv6(t *testing.T) {
	node := dataplane.Node{Name: Node, IPs: []netip.Addr{netip.MustParseAddr("172.18.0.2")}, Family: corev1.IPv6Protocol,
		Flags: dataplane.ProxyFlags{ClusterCIDR: netip.MustParsePrefix("10.244.0.0/16")}}
	got, dump := materializeBesideDemo(t, node, dataplane.Objects{ServiceCIDRs: []netip.Prefix{netip.MustParsePrefix("10.96.0.0/16")}})
	if d := cmp.Diff(dump.KubeProxy(knftables.IPv6Family).Dump(), got.KubeProxy(knftables.IPv6Family).Dump()); d != "" {
		t.Errorf("materialized ip6 table differs from node-1's (-kube-proxy +materialized):\n%s", d)
	}
}

// materializeBesideDemo materializes the nftables state node holds for
// objs, and reads node-1's real ruleset to compare it with.
func materializeBesideDemo(t *testing.T, node dataplane.Node, objs dataplane.Objects) (got, demo *nftables.Ruleset) {
	t.Helper()
	m := nftables.Proxier{}
	want, err := m.Expect(node, objs)
	if err != nil {
		t.Fatal(err)
	}
	if got, err = m.Materialize(want); err != nil {
		t.Fatal(err)
	}
	if demo, err = nftables.ParseJSON(bytes.NewReader(nftJSON)); err != nil {
		t.Fatal(err)
	}
	return got, demo
}
