package conformance

import (
	"context"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/knftables"

	"github.com/svctrace/kubectl-svctrace/dataplane"
	"github.com/svctrace/kubectl-svctrace/dataplane/nftables"
	"github.com/svctrace/kubectl-svctrace/harness"
)

// checkNFTMaterialized compares the node's whole kube-proxy tables, ip
// and ip6, with what nftables.Proxier materializes for every Service and
// EndpointSlice of the cluster and its ServiceCIDRs: the state --serve
// would program must be the state kube-proxy v1.37.2 programmed, handles
// aside. (The node has no IPv6 address and the cluster no IPv6 Service: its
// ip6 table is the base layout.)
func checkNFTMaterialized(ctx context.Context, t *testing.T, c *harness.Cluster) {
	t.Helper()
	objs := clusterObjects(ctx, t, c)
	rs, err := nftRuleset(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	for _, fam := range []struct {
		ip  corev1.IPFamily
		nft knftables.Family
	}{{corev1.IPv4Protocol, knftables.IPv4Family}, {corev1.IPv6Protocol, knftables.IPv6Family}} {
		node := dataplane.Node{Name: c.Node.Name, IPs: []netip.Addr{c.Node.IP}, Family: fam.ip,
			Flags: dataplane.ProxyFlags{ClusterCIDR: netip.MustParsePrefix(harness.ClusterCIDR)}}
		m := nftables.Proxier{}
		want, err := m.Expect(node, objs)
		if err != nil {
			t.Fatal(err)
		}
		got, err := m.Materialize(want)
		if err != nil {
			t.Fatal(err)
		}
		nodeTable := rs.KubeProxy(fam.nft)
		if nodeTable == nil {
			t.Fatalf("the node has no %s kube-proxy table", fam.nft)
		}
		if d := cmp.Diff(nodeTable.Dump(), got.KubeProxy(fam.nft).Dump()); d != "" {
			t.Errorf("materialized %s table differs from kube-proxy's (-kube-proxy +materialized):\n%s", fam.nft, d)
		}
	}
}

// clusterObjects lists every Service, EndpointSlice and ServiceCIDR of the
// cluster, as kube-proxy's informers see them.
func clusterObjects(ctx context.Context, t *testing.T, c *harness.Cluster) dataplane.Objects {
	t.Helper()
	var objs dataplane.Objects
	svcs, err := c.Client.CoreV1().Services(metav1.NamespaceAll).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatalf("list services: %v", err)
	}
	for i := range svcs.Items {
		objs.Services = append(objs.Services, &svcs.Items[i])
	}
	slices, err := c.Client.DiscoveryV1().EndpointSlices(metav1.NamespaceAll).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatalf("list endpointslices: %v", err)
	}
	for i := range slices.Items {
		objs.Slices = append(objs.Slices, &slices.Items[i])
	}
	cidrs, err := c.Client.NetworkingV1().ServiceCIDRs().List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatalf("list servicecidrs: %v", err)
	}
	for _, sc := range cidrs.Items {
		for _, s := range sc.Spec.CIDRs {
			p, err := netip.ParsePrefix(s)
			if err != nil {
				t.Fatalf("servicecidr %s: %v", sc.Name, err)
			}
			objs.ServiceCIDRs = append(objs.ServiceCIDRs, p)
		}
	}
	return objs
}
