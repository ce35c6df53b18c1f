package nftables

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/svctrace/kubectl-svctrace/dataplane"
)

func testPacket(proto, src, dst string, port uint16, entry dataplane.Entry) Packet {
	return Packet{Proto: proto, Src: netip.MustParseAddr(src), Dst: netip.MustParseAddr(dst), DstPort: port, Entry: entry}
}

var nodeOpts = WalkOptions{LocalAddrs: []netip.Addr{netip.MustParseAddr("192.168.0.2")}}

func summary(outs []Outcome) string {
	parts := make([]string, len(outs))
	for i, o := range outs {
		parts[i] = o.String()
	}
	return strings.Join(parts, "; ")
}

func TestWalk(t *testing.T) {
	tests := []struct {
		name, fixture string
		pkt           Packet
		want          string
	}{
		{"single endpoint direct dnat", "v137.json", testPacket("tcp", "10.0.1.5", "172.30.0.41", 80, dataplane.EntryPod), "dnat 10.180.0.1:80 p=1.000"},
		{"two endpoints numgen map", "v137.json", testPacket("tcp", "10.0.1.5", "172.30.0.44", 80, dataplane.EntryPod), "dnat 10.180.0.4:80 p=0.500; dnat 10.180.0.5:80 p=0.500"},
		// The node's own address is outside the cluster CIDR: masqueraded.
		{"three endpoints from the node", "v137.json", testPacket("udp", "192.168.0.2", "172.30.0.47", 53, dataplane.EntryNode),
			"dnat 10.180.0.7:53 masquerade p=0.333; dnat 10.180.0.8:53 masquerade p=0.333; dnat 10.180.0.9:53 masquerade p=0.333"},
		// A pod reaching itself through its Service is in hairpin-connections.
		{"hairpin masquerades", "v137.json", testPacket("tcp", "10.180.0.1", "172.30.0.41", 80, dataplane.EntryPod), "dnat 10.180.0.1:80 masquerade p=1.000"},
		{"udp packet to tcp service port", "v137.json", testPacket("udp", "10.0.1.5", "172.30.0.41", 80, dataplane.EntryPod), "reject p=1.000"},
		{"no endpoints rejects", "v137.json", testPacket("tcp", "10.0.1.5", "172.30.0.46", 80, dataplane.EntryPod), "reject p=1.000"},
		{"undefined port of a cluster IP rejects", "v137.json", testPacket("tcp", "10.0.1.5", "172.30.0.41", 81, dataplane.EntryPod), "reject p=1.000"},
		{"unallocated cluster IP drops", "v137.json", testPacket("tcp", "10.0.1.5", "172.30.9.9", 80, dataplane.EntryPod), "drop p=1.000"},
		{"not a service", "v137.json", testPacket("tcp", "10.0.1.5", "8.8.8.8", 443, dataplane.EntryPod), "no-match p=1.000"},
		{"affinity endpoint chain", "v137.json", testPacket("tcp", "10.0.1.5", "172.30.0.45", 80, dataplane.EntryPod), "dnat 10.180.0.3:80 p=1.000"},
		{"source range allows", "v137.json", testPacket("tcp", "203.0.113.9", "5.6.7.8", 80, dataplane.EntryExternal), "dnat 10.180.0.3:80 masquerade p=1.000"},
		{"source range drops", "v137.json", testPacket("tcp", "198.51.100.1", "5.6.7.8", 80, dataplane.EntryExternal), "drop p=1.000"},
		{"nodeport", "v137.json", testPacket("tcp", "198.51.100.1", "192.168.0.2", 3002, dataplane.EntryExternal), "dnat 10.180.0.3:80 masquerade p=1.000"},
		{"local policy without local endpoint drops external", "v137.json", testPacket("tcp", "198.51.100.1", "1.2.3.4", 80, dataplane.EntryExternal), "drop p=1.000"},
		{"local policy short-circuits pods", "v137.json", testPacket("tcp", "10.0.1.5", "1.2.3.4", 80, dataplane.EntryPod), "dnat 10.180.0.2:80 p=1.000"},
		{"local policy nodeport without local endpoint", "v137.json", testPacket("tcp", "198.51.100.1", "192.168.0.2", 3001, dataplane.EntryExternal), "drop p=1.000"},
		{"legacy endpoint chains", "legacy.json", testPacket("tcp", "10.0.1.5", "172.30.0.44", 80, dataplane.EntryPod), "dnat 10.180.0.4:80 p=0.500; dnat 10.180.0.5:80 p=0.500"},
		{"legacy three endpoints", "legacy.json", testPacket("udp", "192.168.0.2", "172.30.0.47", 53, dataplane.EntryNode),
			"dnat 10.180.0.7:53 p=0.333; dnat 10.180.0.8:53 p=0.333; dnat 10.180.0.9:53 p=0.333"},
		{"legacy external IP", "legacy.json", testPacket("tcp", "198.51.100.1", "192.168.99.33", 80, dataplane.EntryExternal), "dnat 10.180.0.4:80 masquerade p=0.500; dnat 10.180.0.5:80 masquerade p=0.500"},
		{"legacy no endpoints", "legacy.json", testPacket("tcp", "10.0.1.5", "172.30.0.46", 80, dataplane.EntryPod), "reject p=1.000"},
		// A numgen value without a map element skips the rule; the packet
		// goes on untranslated and meets whatever follows.
		{"numgen map hole leaves packets untranslated", "hole", testPacket("tcp", "10.0.1.5", "172.30.0.44", 80, dataplane.EntryPod),
			"dnat 10.180.0.4:80 p=0.500; no-match p=0.500"},
		{"numgen map hole then cluster IP check rejects", "v137 hole", testPacket("tcp", "10.0.1.5", "172.30.0.44", 80, dataplane.EntryPod),
			"dnat 10.180.0.4:80 p=0.500; reject p=0.500"},
		{"numgen vmap hole then cluster IP check rejects", "legacy hole", testPacket("tcp", "10.0.1.5", "172.30.0.44", 80, dataplane.EntryPod),
			"dnat 10.180.0.4:80 p=0.500; reject p=0.500"},
	}
	sets := map[string]*Ruleset{
		"v137.json":   loadJSON(t, "v137.json"),
		"legacy.json": loadJSON(t, "legacy.json"),
		"hole":        parseJSONString(t, holeRuleset),
		"v137 hole":   punchHole(t, loadJSON(t, "v137.json"), svc4Chain, "1"),
		"legacy hole": punchHole(t, loadJSON(t, "legacy.json"), svc4Chain, "1"),
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			outs, err := Walk(sets[tt.fixture], tt.pkt, nodeOpts)
			if err != nil {
				t.Fatal(err)
			}
			if got := summary(outs); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
			sum := 0.0
			for _, o := range outs {
				sum += o.Probability
			}
			if sum < 0.999 || sum > 1.001 {
				t.Errorf("probabilities sum to %f", sum)
			}
		})
	}
}

func TestWalkAffinityPinned(t *testing.T) {
	rs := loadJSON(t, "v137.json")
	set := rs.KubeProxy("ip").Set("affinity-GTK6MW7G-ns5/svc5/tcp/p80__10.180.0.3/80")
	set.Elements = append(set.Elements, set.Elements...) // still empty: source not pinned
	outs, _ := Walk(rs, testPacket("tcp", "10.0.1.5", "172.30.0.45", 80, dataplane.EntryPod), nodeOpts)
	if got := outs[0].Steps[4].Rule; !strings.HasPrefix(got, "numgen random mod 1 vmap") {
		t.Errorf("unpinned source should take the numgen rule, took %q", got)
	}
	set.Elements = append(set.Elements, elementKey("10.0.1.5"))
	set.index = nil
	outs, _ = Walk(rs, testPacket("tcp", "10.0.1.5", "172.30.0.45", 80, dataplane.EntryPod), nodeOpts)
	if got := outs[0].Steps[4].Rule; !strings.Contains(got, "ip saddr @affinity-") {
		t.Errorf("pinned source should take the affinity rule, took %q", got)
	}
}

func TestWalkSteps(t *testing.T) {
	rs := loadJSON(t, "v137.json")
	var b strings.Builder
	for _, p := range []Packet{
		testPacket("tcp", "10.0.1.5", "172.30.0.44", 80, dataplane.EntryPod),
		testPacket("tcp", "10.0.1.5", "172.30.0.46", 80, dataplane.EntryPod),
	} {
		outs, err := Walk(rs, p, nodeOpts)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s %s -> %s:%d (%s)\n", p.Proto, p.Src, p.Dst, p.DstPort, p.Entry)
		for _, o := range outs {
			fmt.Fprintf(&b, "  %s\n", o)
			for _, s := range o.Steps {
				fmt.Fprintf(&b, "    %s %s handle %d #%d: %s", s.Table, s.Chain, s.Handle, s.Position, s.Rule)
				if s.Note != "" {
					fmt.Fprintf(&b, "  [%s]", s.Note)
				}
				b.WriteString("\n")
			}
		}
	}
	checkGolden(t, "walk_v137", b.String())
}

func TestWalkInvalidPacket(t *testing.T) {
	rs := loadJSON(t, "v137.json")
	for _, p := range []Packet{
		{Proto: "icmp", Dst: netip.MustParseAddr("1.2.3.4"), Entry: dataplane.EntryPod},
		{Proto: "tcp", Entry: dataplane.EntryPod},
		{Proto: "tcp", Dst: netip.MustParseAddr("1.2.3.4"), Entry: dataplane.Entry(9)},
	} {
		if _, err := Walk(rs, p, nodeOpts); err == nil {
			t.Errorf("packet %+v: want an error", p)
		}
	}
}

// holeRuleset DNATs 172.30.0.44 by `numgen random mod 2` with an element
// only for 0, and has no other rules.
const holeRuleset = `{"nftables":[
{"chain":{"family":"ip","table":"t","name":"pre","type":"nat","hook":"prerouting","prio":-100}},
{"rule":{"family":"ip","table":"t","chain":"pre","handle":2,"expr":[
 {"match":{"op":"==","left":{"payload":{"protocol":"ip","field":"daddr"}},"right":"172.30.0.44"}},
 {"dnat":{"family":"ip","addr":{"map":{"key":{"numgen":{"mode":"random","mod":2}},"data":{"set":[[0,{"concat":["10.180.0.4",80]}]]}}}}}]}}]}`

const svc4Chain = "service-LAUZTJTB-ns4/svc4/tcp/p80"

func TestWalkHoleSteps(t *testing.T) {
	outs, err := Walk(parseJSONString(t, holeRuleset), testPacket("tcp", "10.0.1.5", "172.30.0.44", 80, dataplane.EntryPod), nodeOpts)
	if err != nil {
		t.Fatal(err)
	}
	if len(outs) != 2 || outs[1].Kind != OutcomeNoMatch || len(outs[1].Steps) != 1 {
		t.Fatalf("want a dnat and a no-match outcome of one step, got %s", summary(outs))
	}
	if got, want := outs[1].Steps[0].Note, "no map element for numgen 1: rule skipped"; got != want {
		t.Errorf("note %q, want %q", got, want)
	}
	if got, want := outs[0].Steps[0].Note, "numgen 1 of 2"; got != want {
		t.Errorf("note %q, want %q", got, want)
	}
}
