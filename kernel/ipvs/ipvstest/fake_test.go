package ipvstest

import (
	"context"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/svctrace/kubectl-svctrace/dataplane/dataplanetest"
	model "github.com/svctrace/kubectl-svctrace/dataplane/ipvs"
	"github.com/svctrace/kubectl-svctrace/kernel/ipvs"
)

func TestFakeApplyReadTable(t *testing.T) {
	ctx := context.Background()
	want := model.Table{VirtualServers: []model.VirtualServer{vsWith("rr", 1, 0), {FWMark: 9, Scheduler: "wrr"}}}
	want.Sort()
	k := NewFake(model.Table{})
	if err := ipvs.Apply(ctx, k, want); err != nil {
		t.Fatal(err)
	}
	// A second Apply with changes updates in place.
	changed := vsWith("wrr", 2, 0)
	if err := ipvs.Apply(ctx, k, model.Table{VirtualServers: []model.VirtualServer{changed}}); err != nil {
		t.Fatal(err)
	}
	want.VirtualServers[0] = changed
	got, err := ipvs.ReadTable(ctx, k)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got, dataplanetest.EquateAddrs); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestFakeErrors(t *testing.T) {
	ctx := context.Background()
	vs := vsWith("rr", 1)
	rs := vs.RealServers[0]
	other := model.RealServer{Address: netip.MustParseAddr("10.9.9.9"), Port: 1}
	k := NewFake(model.Table{VirtualServers: []model.VirtualServer{vs}})
	missing := model.VirtualServer{Address: netip.MustParseAddr("10.0.0.1"), Port: 1, Protocol: model.UDP}
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"add existing vs", k.AddVirtualServer(ctx, vs), "already exists"},
		{"update missing vs", k.UpdateVirtualServer(ctx, missing), "does not exist"},
		{"delete missing vs", k.DeleteVirtualServer(ctx, missing), "does not exist"},
		{"add rs to missing vs", k.AddRealServer(ctx, missing, rs), "does not exist"},
		{"add existing rs", k.AddRealServer(ctx, vs, rs), "already exists"},
		{"update missing rs", k.UpdateRealServer(ctx, vs, other), "does not exist"},
		{"delete missing rs", k.DeleteRealServer(ctx, vs, other), "does not exist"},
	} {
		if tc.err == nil || !strings.Contains(tc.err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", tc.name, tc.err, tc.want)
		}
	}
	if err := k.DeleteRealServer(ctx, vs, rs); err != nil {
		t.Fatal(err)
	}
	if err := k.DeleteVirtualServer(ctx, vs); err != nil {
		t.Fatal(err)
	}
	if got, _ := ipvs.ReadTable(ctx, k); len(got.VirtualServers) != 0 {
		t.Errorf("table after deletes = %+v, want empty", got)
	}
}

// vsWith is 10.96.0.10:80/TCP scheduled by sched with a real server per
// weight.
func vsWith(sched string, weights ...int) model.VirtualServer {
	vs := model.VirtualServer{Address: netip.MustParseAddr("10.96.0.10"), Port: 80, Protocol: model.TCP, Scheduler: sched}
	for i, w := range weights {
		vs.RealServers = append(vs.RealServers, model.RealServer{
			Address: netip.AddrFrom4([4]byte{10, 244, 0, byte(i + 1)}), Port: 8080, Weight: w, Forward: model.Masquerade,
		})
	}
	return vs
}

// TestFakeAddressesAndDump: addresses bind once, unbind once, and Dump
// lists the table then the addresses.
func TestFakeAddressesAndDump(t *testing.T) {
	ctx := context.Background()
	k := NewFake(model.Table{VirtualServers: []model.VirtualServer{vsWith("rr", 1)}})
	a, b := netip.MustParseAddr("10.96.0.10"), netip.MustParseAddr("fd00::10")
	for _, ip := range []netip.Addr{b, a} {
		if err := k.AddAddress(ctx, ip); err != nil {
			t.Fatal(err)
		}
	}
	if err := k.AddAddress(ctx, a); err == nil || !strings.Contains(err.Error(), "already bound") {
		t.Errorf("binding %s twice: err = %v", a, err)
	}
	want := model.FormatSave(model.Table{VirtualServers: []model.VirtualServer{vsWith("rr", 1)}}) +
		"ip addr add 10.96.0.10/32 dev kube-ipvs0\nip addr add fd00::10/128 dev kube-ipvs0\n"
	if diff := cmp.Diff(want, k.Dump()); diff != "" {
		t.Errorf("dump (-want +got):\n%s", diff)
	}
	if err := k.DeleteAddress(ctx, a); err != nil {
		t.Fatal(err)
	}
	if err := k.DeleteAddress(ctx, a); err == nil {
		t.Errorf("unbinding %s twice succeeded", a)
	}
	if got, _ := k.ListAddresses(ctx); len(got) != 1 || got[0] != b {
		t.Errorf("addresses %v, want [%s]", got, b)
	}
}
