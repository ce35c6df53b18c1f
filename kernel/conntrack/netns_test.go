//go:build linux

package conntrack

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"testing"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/svctrace/kubectl-svctrace/internal/netnstest"
)

// TestNetlinkListDelete creates a translated UDP flow in a fresh network
// namespace's table, lists it through Netlink and deletes it by the
// endpoint it was translated to, as kube-proxy's stale-flow cleanup does.
func TestNetlinkListDelete(t *testing.T) {
	netnstest.Require(t, "ip")
	ns := netnstest.New(t, "ct")
	ctx := context.Background()
	svc, ep, client := netip.MustParseAddr("10.96.0.10"), netip.MustParseAddr("10.244.1.7"), netip.MustParseAddr("10.244.0.5")
	flow := &netlink.ConntrackFlow{FamilyType: unix.AF_INET, TimeOut: 100,
		Forward: netlink.IPTuple{Protocol: unix.IPPROTO_UDP, SrcIP: net.IP(client.AsSlice()), DstIP: net.IP(svc.AsSlice()), SrcPort: 41234, DstPort: 53},
		Reverse: netlink.IPTuple{Protocol: unix.IPPROTO_UDP, SrcIP: net.IP(ep.AsSlice()), DstIP: net.IP(client.AsSlice()), SrcPort: 53, DstPort: 41234}}
	netnstest.Do(t, ns, func() {
		if err := netlink.ConntrackCreate(netlink.ConntrackTable, unix.AF_INET, flow); err != nil {
			if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.EPROTONOSUPPORT) || errors.Is(err, unix.EOPNOTSUPP) {
				t.Skipf("this kernel has no conntrack over netlink: %v", err)
			}
			t.Fatalf("create a conntrack entry: %v", err)
		}
		k := Netlink{}
		got, err := k.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].Protocol != "udp" || got[0].Original.Dst != svc || got[0].Reply.Src != ep || got[0].Original.DPort != 53 {
			t.Fatalf("listed %+v, want the one UDP flow to %s translated to %s", got, svc, ep)
		}
		if n, err := k.Delete(ctx, Filter{Protocol: "udp", Dest: svc, ReplySource: netip.MustParseAddr("10.244.9.9")}); err != nil || n != 0 {
			t.Errorf("a filter for another endpoint deleted %d (%v)", n, err)
		}
		if n, err := k.Delete(ctx, Filter{Protocol: "udp", Dest: svc, ReplySource: ep}); err != nil || n != 1 {
			t.Errorf("Delete = %d, %v; want 1", n, err)
		}
		if got, err := k.List(ctx); err != nil || len(got) != 0 {
			t.Errorf("after Delete: %+v, %v", got, err)
		}
	})
}
