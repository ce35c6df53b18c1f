package ipvs

import (
	"context"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestFakeApplyReadTable(t *testing.T) {
	ctx := context.Background()
	want := Table{VirtualServers: []VirtualServer{vsWith("rr", 1, 0), {FWMark: 9, Scheduler: "wrr"}}}
	want.Sort()
	k := NewFake(Table{})
	if err := Apply(ctx, k, want); err != nil {
		t.Fatal(err)
	}
	// A second Apply with changes updates in place.
	changed := vsWith("wrr", 2, 0)
	if err := Apply(ctx, k, Table{VirtualServers: []VirtualServer{changed}}); err != nil {
		t.Fatal(err)
	}
	want.VirtualServers[0] = changed
	got, err := ReadTable(ctx, k)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got, addrs); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestFakeErrors(t *testing.T) {
	ctx := context.Background()
	vs := vsWith("rr", 1)
	rs := vs.RealServers[0]
	other := RealServer{Address: netip.MustParseAddr("10.9.9.9"), Port: 1}
	k := NewFake(Table{VirtualServers: []VirtualServer{vs}})
	missing := VirtualServer{Address: netip.MustParseAddr("10.0.0.1"), Port: 1, Protocol: UDP}
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
	if got, _ := ReadTable(ctx, k); len(got.VirtualServers) != 0 {
		t.Errorf("table after deletes = %+v, want empty", got)
	}
}
