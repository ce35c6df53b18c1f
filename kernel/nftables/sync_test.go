package nftables

import (
	"context"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"sigs.k8s.io/knftables"

	"github.com/svctrace/kubectl-svctrace/dataplane"
	"github.com/svctrace/kubectl-svctrace/dataplane/dataplanetest"
	model "github.com/svctrace/kubectl-svctrace/dataplane/nftables"
	"github.com/svctrace/kubectl-svctrace/internal/netnstest"
)

// want is the expectation for dataplanetest's Service, and the table a
// node in sync with it holds.
func want(t *testing.T, objs dataplane.Objects) (*model.Want, *model.Table) {
	t.Helper()
	w, err := model.Proxier{}.Expect(dataplanetest.Node, objs)
	if err != nil {
		t.Fatal(err)
	}
	rs, err := model.Proxier{}.Materialize(w)
	if err != nil {
		t.Fatal(err)
	}
	return w, rs.KubeProxy(w.Family)
}

// TestSyncIntoFake: knftables accepts the objects as a transaction, the
// table then holds what Materialize says, and a second Sync without the
// Service leaves none of its rules or elements.
func TestSyncIntoFake(t *testing.T) {
	ctx := context.Background()
	w, table := want(t, dataplanetest.Web())
	fake := knftables.NewFake(knftables.IPv4Family, model.KubeProxyTable)
	if err := Sync(ctx, fake, w.Objects()); err != nil {
		t.Fatal(err)
	}
	got, err := model.RulesetOf(knftables.IPv4Family, dataplanetest.KnftablesObjects(fake.Table))
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(table.Dump(), got.KubeProxy(knftables.IPv4Family).Dump()); d != "" {
		t.Errorf("fake's table after Sync (-materialized +fake):\n%s", d)
	}
	empty, _ := want(t, dataplane.Objects{})
	if err := Sync(ctx, fake, empty.Objects()); err != nil {
		t.Fatal(err)
	}
	if m := fake.Table.Maps[model.MapServiceIPs]; len(m.Elements) != 0 {
		t.Errorf("service-ips after a Sync without the Service: %v", m.Elements)
	}
}

// TestSyncRealNFT programs a fresh network namespace through knftables and
// the real nft, and reads back the table Materialize describes.
func TestSyncRealNFT(t *testing.T) {
	netnstest.Require(t, "ip", "nft")
	ns := netnstest.New(t, "nft")
	ctx := context.Background()
	w, table := want(t, dataplanetest.Web())
	netnstest.Do(t, ns, func() {
		nft, err := knftables.New(knftables.IPv4Family, model.KubeProxyTable)
		if err != nil {
			t.Fatal(err)
		}
		if err := Sync(ctx, nft, w.Objects()); err != nil {
			t.Fatal(err)
		}
	})
	rs, err := ListRuleset(ctx, ExecRunner{}, ns)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(table.Dump(), rs.KubeProxy(knftables.IPv4Family).Dump()); d != "" {
		t.Errorf("nft's table after Sync (-materialized +nft):\n%s", d)
	}
}

// web6 is dataplanetest's Service in IPv6, with two endpoints.
func web6() dataplane.Objects {
	objs := dataplanetest.Web()
	svc := objs.Services[0].DeepCopy()
	svc.Spec.ClusterIP, svc.Spec.ClusterIPs, svc.Spec.IPFamilies = "fd00:96::20", []string{"fd00:96::20"}, []corev1.IPFamily{corev1.IPv6Protocol}
	slice := objs.Slices[0].DeepCopy()
	slice.AddressType = discoveryv1.AddressTypeIPv6
	slice.Endpoints[0].Addresses, slice.Endpoints[1].Addresses = []string{"fd00:244::10"}, []string{"fd00:244::11"}
	return dataplane.Objects{Services: []*corev1.Service{svc}, Slices: []*discoveryv1.EndpointSlice{slice},
		ServiceCIDRs: []netip.Prefix{netip.MustParsePrefix("fd00:96::/108")}}
}

// TestSyncRealNFTIPv6 is TestSyncRealNFT for the ip6 table: nft lists
// what Materialize says for an IPv6 Service.
func TestSyncRealNFTIPv6(t *testing.T) {
	netnstest.Require(t, "ip", "nft")
	ns := netnstest.New(t, "nft6")
	ctx := context.Background()
	node := dataplanetest.Node
	node.Family, node.IPs = corev1.IPv6Protocol, []netip.Addr{netip.MustParseAddr("fd00:18::2")}
	node.Flags.ClusterCIDR = netip.MustParsePrefix("fd00:244::/56")
	w, err := model.Proxier{}.Expect(node, web6())
	if err != nil {
		t.Fatal(err)
	}
	rs, err := model.Proxier{}.Materialize(w)
	if err != nil {
		t.Fatal(err)
	}
	netnstest.Do(t, ns, func() {
		nft, err := knftables.New(knftables.IPv6Family, model.KubeProxyTable)
		if err != nil {
			t.Fatal(err)
		}
		if err := Sync(ctx, nft, w.Objects()); err != nil {
			t.Fatal(err)
		}
	})
	listed, err := ListRuleset(ctx, ExecRunner{}, ns)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(rs.KubeProxy(knftables.IPv6Family).Dump(), listed.KubeProxy(knftables.IPv6Family).Dump()); d != "" {
		t.Errorf("nft's ip6 table after Sync (-materialized +nft):\n%s", d)
	}
}
