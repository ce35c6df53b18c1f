package nftables

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/svctrace/kubectl-svctrace/dataplane"
)

// bigRulesetJSON builds nft JSON for n services in the v1.37 layout, each
// with three endpoints, shaped like the real listing in testdata/v137.json.
func bigRulesetJSON(n int) []byte {
	objs := []any{
		map[string]any{"table": map[string]any{"family": "ip", "name": "kube-proxy", "handle": 1}},
		map[string]any{"chain": map[string]any{"family": "ip", "table": "kube-proxy", "name": "nat-prerouting", "handle": 2, "type": "nat", "hook": "prerouting", "prio": -100, "policy": "accept"}},
		map[string]any{"chain": map[string]any{"family": "ip", "table": "kube-proxy", "name": "services", "handle": 3}},
	}
	var elems []any
	for i := 0; i < n; i++ {
		chain := fmt.Sprintf("service-AAAAAAAA-ns%d/svc/tcp/http", i)
		cip := fmt.Sprintf("172.%d.%d.%d", 16+i>>16, (i>>8)&255, i&255)
		elems = append(elems, []any{map[string]any{"concat": []any{cip, "tcp", 80}}, map[string]any{"goto": map[string]any{"target": chain}}})
		objs = append(objs, map[string]any{"chain": map[string]any{"family": "ip", "table": "kube-proxy", "name": chain, "handle": 10 + 2*i}})
		var m []any
		for j := 0; j < 3; j++ {
			m = append(m, []any{j, map[string]any{"concat": []any{fmt.Sprintf("10.%d.%d.%d", j, (i>>8)&255, i&255), 8080}}})
		}
		objs = append(objs, map[string]any{"rule": map[string]any{"family": "ip", "table": "kube-proxy", "chain": chain, "handle": 11 + 2*i, "expr": []any{
			map[string]any{"match": map[string]any{"op": "==", "left": map[string]any{"meta": map[string]any{"key": "l4proto"}}, "right": "tcp"}},
			map[string]any{"dnat": map[string]any{"family": "ip", "addr": map[string]any{"map": map[string]any{
				"key": map[string]any{"numgen": map[string]any{"mode": "random", "mod": 3, "offset": 0}}, "data": map[string]any{"set": m}}}}},
		}}})
	}
	objs = append(objs,
		map[string]any{"map": map[string]any{"family": "ip", "table": "kube-proxy", "name": "service-ips", "handle": 4, "type": []any{"ipv4_addr", "inet_proto", "inet_service"}, "map": "verdict", "elem": elems}},
		map[string]any{"rule": map[string]any{"family": "ip", "table": "kube-proxy", "chain": "nat-prerouting", "handle": 5, "expr": []any{map[string]any{"jump": map[string]any{"target": "services"}}}}},
		map[string]any{"rule": map[string]any{"family": "ip", "table": "kube-proxy", "chain": "services", "handle": 6, "expr": []any{map[string]any{"vmap": map[string]any{
			"key": map[string]any{"concat": []any{
				map[string]any{"payload": map[string]any{"protocol": "ip", "field": "daddr"}},
				map[string]any{"meta": map[string]any{"key": "l4proto"}},
				map[string]any{"payload": map[string]any{"protocol": "th", "field": "dport"}}}},
			"data": "@service-ips"}}}}},
	)
	data, err := json.Marshal(map[string]any{"nftables": objs})
	if err != nil {
		panic(err)
	}
	return data
}

func BenchmarkParseJSON10kServices(b *testing.B) {
	data := bigRulesetJSON(10000)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseJSON(bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkWalk10kServices(b *testing.B) {
	rs, err := ParseJSON(bytes.NewReader(bigRulesetJSON(10000)))
	if err != nil {
		b.Fatal(err)
	}
	pkt := testPacket("tcp", "10.99.0.1", "172.16.39.15", 80, dataplane.EntryPod)
	outs, err := Walk(rs, pkt, WalkOptions{})
	if err != nil || len(outs) != 3 {
		b.Fatalf("walk: %v %v", outs, err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Walk(rs, pkt, WalkOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkWalkFixture(b *testing.B) {
	rs := loadJSON(b, "v137.json")
	pkt := testPacket("tcp", "10.0.1.5", "172.30.0.44", 80, dataplane.EntryPod)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Walk(rs, pkt, nodeOpts); err != nil {
			b.Fatal(err)
		}
	}
}
