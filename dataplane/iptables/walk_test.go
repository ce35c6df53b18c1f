package iptables

import (
	"errors"
	"fmt"
	"math"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/svctrace/kubectl-svctrace/dataplane"
	"github.com/svctrace/kubectl-svctrace/internal/golden"
)

// golden compares got with testdata/name, rewriting it under -update.
func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	golden.Check(t, filepath.Join("testdata", name), []byte(got))
}

func mustParseFile(t testing.TB, name string) *Dump {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	d, err := Parse(string(b))
	if err != nil {
		t.Fatalf("parse %s: %v", name, err)
	}
	return d
}

// renderWalk renders a result with every step, for golden files.
func renderWalk(r Result) string {
	var b strings.Builder
	b.WriteString(r.String())
	for i, o := range r.Outcomes {
		fmt.Fprintf(&b, "\noutcome %d: %s\n", i+1, o.ChainPath())
		for _, s := range o.Steps() {
			b.WriteString("  " + s.String() + "\n")
		}
	}
	return b.String()
}

var (
	nodeIP = netip.MustParseAddr("192.168.0.2")
	node   = Node{LocalAddrs: []netip.Addr{nodeIP}}
)

func pkt(proto, src, dst string, dport uint16) Packet {
	return Packet{Proto: proto, Src: netip.MustParseAddr(src), Dst: netip.MustParseAddr(dst), DstPort: dport}
}

type wantOutcome struct {
	verdict Verdict
	dest    string
	prob    float64
	masq    bool
}

func TestWalk(t *testing.T) {
	tests := []struct {
		name  string
		dump  string
		p     Packet
		entry dataplane.Entry
		node  Node
		want  []wantOutcome
	}{{
		name: "pod-to-clusterip", dump: "kube-proxy-nft.save", entry: dataplane.EntryPod, node: node,
		p: pkt("tcp", "10.0.0.5", "172.30.0.41", 80),
		want: []wantOutcome{
			{VerdictDNAT, "10.180.0.1:80", 1.0 / 3, false},
			{VerdictDNAT, "10.180.0.2:80", 1.0 / 3, false},
			{VerdictDNAT, "10.180.1.3:80", 1.0 / 3, false},
		},
	}, {
		name: "node-to-clusterip", dump: "kube-proxy-legacy.save", entry: dataplane.EntryNode, node: node,
		p: pkt("tcp", "192.168.0.2", "172.30.0.41", 80),
		want: []wantOutcome{
			{VerdictDNAT, "10.180.0.1:80", 1.0 / 3, true},
			{VerdictDNAT, "10.180.0.2:80", 1.0 / 3, true},
			{VerdictDNAT, "10.180.1.3:80", 1.0 / 3, true},
		},
	}, {
		name: "external-nodeport", dump: "kube-proxy-nft.save", entry: dataplane.EntryExternal, node: node,
		p: pkt("tcp", "203.0.113.9", "192.168.0.2", 3001),
		want: []wantOutcome{
			{VerdictDNAT, "10.180.0.1:80", 1.0 / 3, true},
			{VerdictDNAT, "10.180.0.2:80", 1.0 / 3, true},
			{VerdictDNAT, "10.180.1.3:80", 1.0 / 3, true},
		},
	}, {
		name: "pod-to-service-without-endpoints", dump: "kube-proxy-nft.save", entry: dataplane.EntryPod, node: node,
		p:    pkt("tcp", "10.0.0.5", "172.30.0.42", 80),
		want: []wantOutcome{{VerdictReject, "", 1, false}},
	}, {
		name: "external-nodeport-without-endpoints", dump: "kube-proxy-legacy.save", entry: dataplane.EntryExternal, node: node,
		p:    pkt("tcp", "203.0.113.9", "192.168.0.2", 3002),
		want: []wantOutcome{{VerdictReject, "", 1, false}},
	}, {
		name: "pod-to-clusterip-with-affinity", dump: "kube-proxy-nft.save", entry: dataplane.EntryPod, node: node,
		p: pkt("tcp", "10.0.0.5", "172.30.0.43", 80),
		want: []wantOutcome{
			{VerdictDNAT, "10.180.0.4:80", 1, false},
			{VerdictDNAT, "10.180.0.5:80", 1, false},
			{VerdictDNAT, "10.180.0.4:80", 0.5, false},
			{VerdictDNAT, "10.180.0.5:80", 0.5, false},
		},
	}, {
		name: "not-a-service", dump: "kube-proxy-nft.save", entry: dataplane.EntryPod, node: node,
		p:    pkt("udp", "10.0.0.5", "8.8.8.8", 53),
		want: []wantOutcome{{VerdictAccept, "", 1, false}},
	}, {
		name: "nodeport-without-node-addresses", dump: "kube-proxy-nft.save", entry: dataplane.EntryExternal,
		p: pkt("tcp", "203.0.113.9", "192.168.0.2", 3001),
		want: []wantOutcome{
			{VerdictDNAT, "10.180.0.1:80", 1.0 / 3, true},
			{VerdictDNAT, "10.180.0.2:80", 1.0 / 3, true},
			{VerdictDNAT, "10.180.1.3:80", 1.0 / 3, true},
			{VerdictAccept, "", 1, false},
		},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := mustParseFile(t, tc.dump)
			res, err := Walk(d, tc.p, tc.entry, tc.node)
			if err != nil {
				t.Fatal(err)
			}
			var got []wantOutcome
			for _, o := range res.Outcomes {
				dest := ""
				if o.Destination.IsValid() {
					dest = o.Destination.String()
				}
				got = append(got, wantOutcome{o.Verdict, dest, o.Probability, o.Masquerade})
			}
			approx := cmp.Comparer(func(a, b float64) bool { return math.Abs(a-b) < 1e-6 })
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(wantOutcome{}), approx); diff != "" {
				t.Errorf("outcomes (-want +got):\n%s\n%s", diff, res)
			}
			checkGolden(t, filepath.Join("walk", tc.name+".golden"), renderWalk(res))
		})
	}
}

func TestWalkUnevaluable(t *testing.T) {
	d, err := Parse(`*nat
:PREROUTING ACCEPT [0:0]
:KUBE-SERVICES - [0:0]
:KUBE-SEP-A - [0:0]
-A PREROUTING -j KUBE-SERVICES
-A KUBE-SERVICES -m physdev --physdev-in eth0 -j RETURN
-A KUBE-SERVICES -d 10.96.0.10/32 -p udp -m set --match-set KUBE-CLUSTER-IP dst,dst -m udp --dport 53 -j KUBE-SEP-A
-A KUBE-SEP-A -m frobnicate --wibble 3 -j DNAT --to-destination 10.244.0.3:53
COMMIT
`)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Walk(d, pkt("udp", "10.244.0.9", "10.96.0.10", 53), dataplane.EntryPod, node)
	if err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "walk/unevaluable.golden", renderWalk(res))
	var sumDNAT float64
	for _, o := range res.Outcomes {
		if len(o.Assumptions) == 0 {
			t.Errorf("outcome %s has no assumptions, but every path crosses an unevaluable rule", o.ChainPath())
		}
		if o.Verdict == VerdictDNAT {
			sumDNAT++
		}
	}
	if sumDNAT != 1 || len(res.Outcomes) != 4 {
		t.Errorf("want 4 outcomes with one DNAT, got\n%s", res)
	}
}

func TestWalkMarkAndMasquerade(t *testing.T) {
	d := mustParseFile(t, "kube-proxy-nft.save")
	res, err := Walk(d, pkt("tcp", "192.168.0.2", "172.30.0.41", 80), dataplane.EntryNode, node)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range res.Outcomes {
		// KUBE-MARK-MASQ sets 0x4000, KUBE-POSTROUTING clears it again.
		if !o.Masquerade || o.Mark != 0 {
			t.Errorf("%s: masquerade %v mark %#x, want true and 0", o.ChainPath(), o.Masquerade, o.Mark)
		}
	}
}

func TestWalkLoops(t *testing.T) {
	tests := []struct{ name, rules string }{
		{"jump-cycle", "-A PREROUTING -j A\n-A A -j B\n-A B -j A\n"},
		{"goto-cycle", "-A PREROUTING -j A\n-A A -g B\n-A B -g A\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := Parse("*nat\n:A - [0:0]\n:B - [0:0]\n" + tc.rules + "COMMIT\n")
			if err != nil {
				t.Fatal(err)
			}
			_, err = Walk(d, pkt("tcp", "10.0.0.1", "10.0.0.2", 80), dataplane.EntryPod, node)
			if !errors.Is(err, ErrLoop) {
				t.Fatalf("want ErrLoop, got %v", err)
			}
		})
	}
}

func TestWalkDropPolicyAndReturn(t *testing.T) {
	d, err := Parse(`*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:CHECK - [0:0]
-A FORWARD -j CHECK
-A FORWARD -d 10.0.0.0/8 -j ACCEPT
-A CHECK -s 10.0.0.66 -j REJECT --reject-with icmp-host-prohibited
-A CHECK -j RETURN
-A CHECK -j DROP
COMMIT
`)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		src, dst string
		want     Verdict
	}{
		{"10.0.0.1", "10.0.0.2", VerdictAccept},
		{"10.0.0.1", "192.0.2.1", VerdictDrop},
		{"10.0.0.66", "10.0.0.2", VerdictReject},
	}
	for _, tc := range tests {
		res, err := Walk(d, pkt("tcp", tc.src, tc.dst, 80), dataplane.EntryPod, node)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Outcomes) != 1 || res.Outcomes[0].Verdict != tc.want {
			t.Errorf("%s -> %s: want %s, got\n%s", tc.src, tc.dst, tc.want, res)
		}
	}
}

func TestWalkExponentialJumps(t *testing.T) {
	// Each chain calls the next twice: 2^40 paths without a cycle.
	var b strings.Builder
	b.WriteString("*filter\n")
	for i := range 40 {
		fmt.Fprintf(&b, ":C%d - [0:0]\n", i)
	}
	b.WriteString("-A INPUT -j C0\n")
	for i := range 39 {
		fmt.Fprintf(&b, "-A C%d -j C%d\n-A C%d -j C%d\n", i, i+1, i, i+1)
	}
	b.WriteString("COMMIT\n")
	d, err := Parse(b.String())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Walk(d, pkt("tcp", "10.0.0.1", "127.0.0.1", 80), dataplane.EntryPod, node); !errors.Is(err, ErrLoop) {
		t.Fatalf("want ErrLoop, got %v", err)
	}
}

func TestWalkLoadBalancerSourceRanges(t *testing.T) {
	d := mustParseFile(t, "loadbalancer-firewall.save")
	tests := []struct {
		src  string
		want Verdict
	}{
		{"203.0.113.7", VerdictDNAT},  // inside loadBalancerSourceRanges
		{"198.51.100.7", VerdictDrop}, // outside: no DNAT, filter drops the LB IP
	}
	for _, tc := range tests {
		res, err := Walk(d, pkt("tcp", tc.src, "5.6.7.8", 80), dataplane.EntryExternal, node)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Outcomes) != 1 || res.Outcomes[0].Verdict != tc.want {
			t.Errorf("from %s: want %s, got\n%s", tc.src, tc.want, res)
		}
	}
}
