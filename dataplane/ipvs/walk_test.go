package ipvs

import (
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func vsWith(sched string, weights ...int) VirtualServer {
	vs := VirtualServer{Address: netip.MustParseAddr("10.96.0.10"), Port: 80, Protocol: TCP, Scheduler: sched}
	for i, w := range weights {
		vs.RealServers = append(vs.RealServers, RealServer{
			Address: netip.AddrFrom4([4]byte{10, 244, 0, byte(i + 1)}), Port: 8080, Weight: w, Forward: Masquerade,
		})
	}
	return vs
}

func TestWalk(t *testing.T) {
	for _, tc := range []struct {
		name   string
		vs     VirtualServer
		proto  Protocol
		port   uint16
		found  bool
		shares []float64
		approx bool
	}{
		// rr ignores weights except that weight 0 takes nothing (ip_vs_rr.c).
		{"rr", vsWith("rr", 1, 3, 0), TCP, 80, true, []float64{0.5, 0.5, 0}, false},
		{"wrr", vsWith("wrr", 1, 3, 0), TCP, 80, true, []float64{0.25, 0.75, 0}, false},
		{"wlc approximates by weight", vsWith("wlc", 1, 1, 2), TCP, 80, true, []float64{0.25, 0.25, 0.5}, true},
		{"fo picks highest weight", vsWith("fo", 1, 5, 5), TCP, 80, true, []float64{0, 1, 0}, false},
		{"all draining", vsWith("rr", 0, 0), TCP, 80, true, []float64{0, 0}, false},
		{"no real servers", vsWith("rr"), TCP, 80, true, []float64{}, false},
		{"wrong protocol", vsWith("rr", 1), UDP, 80, false, nil, false},
		{"wrong port", vsWith("rr", 1), TCP, 81, false, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := Walk(Table{VirtualServers: []VirtualServer{tc.vs}}, tc.proto, netip.MustParseAddr("10.96.0.10"), tc.port)
			if r.Found != tc.found || r.Approximate != tc.approx {
				t.Fatalf("Walk found=%v approx=%v, want %v %v (%s)", r.Found, r.Approximate, tc.found, tc.approx, r.Note)
			}
			var got []float64
			for _, o := range r.Outcomes {
				got = append(got, o.Probability)
			}
			if tc.shares != nil && len(tc.shares) == 0 {
				tc.shares = nil
			}
			if diff := cmp.Diff(tc.shares, got); diff != "" {
				t.Errorf("shares (-want +got):\n%s", diff)
			}
			if r.Note == "" && (!r.Found || len(tc.vs.RealServers) == 0) {
				t.Error("missing note explaining the result")
			}
		})
	}
}

func TestWalkPersistentNote(t *testing.T) {
	vs := vsWith("rr", 1, 1)
	vs.Flags, vs.Timeout = FlagPersistent, 10800
	r := Walk(Table{VirtualServers: []VirtualServer{vs}}, TCP, vs.Address, 80)
	if want := "persistent for 10800s: a client's first connection follows these shares, later ones stick to the same real server"; r.Note != want {
		t.Errorf("note = %q, want %q", r.Note, want)
	}
}
