package iptables

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/svctrace/kubectl-svctrace/dataplane"
)

// TestWalkShowsTheSplitTheCountersSaw sets the counters of svc1's three
// endpoint DNAT rules as a node's iptables-save -c would print them and
// wants each outcome's observed share beside its expected probability.
func TestWalkShowsTheSplitTheCountersSaw(t *testing.T) {
	save := readText(t, "kube-proxy-nft.save")
	counts := map[string]string{"10.180.0.1:80": "[10:600]", "10.180.0.2:80": "[20:1200]", "10.180.1.3:80": "[30:1800]"}
	var b strings.Builder
	for line := range strings.Lines(save) {
		for target, c := range counts {
			if strings.Contains(line, "-j DNAT --to-destination "+target) && strings.Contains(line, "ns1/svc1:p80") {
				line = c + line[strings.IndexByte(line, ' '):]
			}
		}
		b.WriteString(line)
	}
	d, err := Parse(b.String())
	if err != nil {
		t.Fatal(err)
	}
	pkt := dataplane.Packet{Protocol: "tcp", Source: netip.MustParseAddr("10.0.1.5"), Dest: netip.MustParseAddr("172.30.0.41"), Port: 80, From: dataplane.EntryPod}
	w, err := Proxier{}.Walk(&Want{}, d, pkt)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{"10.180.0.1:80": 10.0 / 60, "10.180.0.2:80": 20.0 / 60, "10.180.1.3:80": 30.0 / 60}
	for _, o := range w.Outcomes {
		share, ok := want[o.Target]
		if !ok || o.Observed == nil {
			t.Fatalf("outcome %s: observed %+v, want a share", o.Target, o.Observed)
		}
		if d := o.Observed.Share - share; d > 1e-9 || d < -1e-9 || o.Probability < 0.33 || o.Probability > 0.34 {
			t.Errorf("outcome %s: expected %.3f observed %.3f (%d), want observed %.3f beside expected 1/3", o.Target, o.Probability, o.Observed.Share, o.Observed.Packets, share)
		}
	}

	// The same rules without counters, or with none counted yet, say nothing.
	plain, err := Parse(save)
	if err != nil {
		t.Fatal(err)
	}
	w, err = Proxier{}.Walk(&Want{}, plain, pkt)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range w.Outcomes {
		if o.Observed != nil {
			t.Errorf("outcome %s: observed %+v from zero counters", o.Target, o.Observed)
		}
	}
}
