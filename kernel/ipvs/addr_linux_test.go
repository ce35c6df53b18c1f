//go:build linux

package ipvs

import (
	"context"
	"net/netip"
	"slices"
	"testing"

	"github.com/svctrace/kubectl-svctrace/internal/netnstest"
)

// TestNetlinkAddresses binds, lists and unbinds addresses on kube-ipvs0 in
// a fresh network namespace. The test kernels have no dummy module, so the
// interface is a veth named kube-ipvs0: the address calls do not care
// what kind of link it is.
func TestNetlinkAddresses(t *testing.T) {
	netnstest.Require(t, "ip")
	ns := netnstest.New(t, "ipvsaddr")
	ctx := context.Background()
	n := &Netlink{}
	netnstest.Do(t, ns, func() {
		if got, err := n.ListAddresses(ctx); err != nil || len(got) != 0 {
			t.Fatalf("without kube-ipvs0: %v, %v; want none", got, err)
		}
	})
	netnstest.Exec(t, ns, "", "ip", "link", "add", "kube-ipvs0", "type", "veth", "peer", "name", "ipvs-peer")
	v4, v6 := netip.MustParseAddr("10.96.0.10"), netip.MustParseAddr("fd00:96::10")
	netnstest.Do(t, ns, func() {
		for _, a := range []netip.Addr{v6, v4} {
			if err := n.AddAddress(ctx, a); err != nil {
				t.Fatal(err)
			}
		}
		if err := n.AddAddress(ctx, v4); err == nil {
			t.Errorf("binding %s twice succeeded", v4)
		}
		got, err := n.ListAddresses(ctx)
		if err != nil {
			t.Fatal(err)
		}
		// The kernel adds the link-local IPv6 address of its own.
		got = slices.DeleteFunc(got, netip.Addr.IsLinkLocalUnicast)
		if !slices.Equal(got, []netip.Addr{v4, v6}) {
			t.Errorf("bound %v, want [%s %s]", got, v4, v6)
		}
		if err := n.DeleteAddress(ctx, v4); err != nil {
			t.Fatal(err)
		}
		if err := n.DeleteAddress(ctx, v4); err == nil {
			t.Errorf("unbinding %s twice succeeded", v4)
		}
	})
}
