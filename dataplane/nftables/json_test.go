package nftables

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/svctrace/kubectl-svctrace/dataplane"
)

func TestParseJSONFixture(t *testing.T) {
	rs := loadJSON(t, "v137.json")
	tbl := rs.KubeProxy("ip")
	if tbl == nil {
		t.Fatal("no ip kube-proxy table")
	}
	var b strings.Builder
	for _, c := range tbl.Chains {
		hook := ""
		if c.IsBase() {
			hook = fmt.Sprintf(" [%s %s prio %d]", *c.Type, *c.Hook, c.Prio)
		}
		fmt.Fprintf(&b, "chain %s%s\n", c.Name, hook)
		for _, r := range c.Rules {
			fmt.Fprintf(&b, "  #%d/%d %s\n", r.Handle, r.Position, r.Text())
		}
	}
	for _, name := range []string{MapServiceIPs, MapServiceNodePorts, MapNoEndpointServices, MapNoEndpointNodePorts, MapFirewallIPs, SetClusterIPs, SetNodePortIPs, SetHairpinConnections} {
		s := tbl.Set(name)
		if s == nil {
			t.Fatalf("set %s missing", name)
		}
		fmt.Fprintf(&b, "set %s map=%v key=%s data=%s\n", name, s.IsMap, strings.Join(s.Key, " . "), s.Data)
		for _, e := range s.Elements {
			c := ""
			if e.Comment != nil {
				c = " comment " + *e.Comment
			}
			fmt.Fprintf(&b, "  %s : %s%s\n", strings.Join(e.Key, " . "), strings.Join(e.Value, " "), c)
		}
	}
	checkGolden(t, "parse_v137", b.String())
}

func TestParseJSONErrors(t *testing.T) {
	tests := []struct {
		name, in, wantErr string
	}{
		{"text listing", "table ip kube-proxy {", "this is the text listing of `nft list ruleset`; save the JSON one with `nft -j list ruleset`"},
		{"broken json names line and column", "{\"nftables\": [\n  {\"table\": {}},\n  }\n]}", "nft JSON: line 3, column 3: invalid character '}'"},
		{"not json", "<html>", "nft JSON: line 1, column 1: invalid character '<'"},
		{"no nftables key", `{"foo": []}`, `no "nftables" array`},
		{"mistyped field", `{"nftables":[{"chain":{"family":"ip","table":"t","name":5}}]}`, `nftables[0]: chain: field "name" is a JSON number, where nft writes a string`},
		{"table without name", `{"nftables":[{"table":{"family":"ip"}}]}`, "nftables[0]: table: missing family, table or name"},
		{"rule before chain", `{"nftables":[{"rule":{"family":"ip","table":"t","chain":"c","handle":4,"expr":[]}}]}`, `chain "c" was not listed before its rules`},
		{"bad priority", `{"nftables":[{"chain":{"family":"ip","table":"t","name":"c","hook":"input","type":"filter","prio":"x"}}]}`, "nftables[0]: chain"},
		{"jump without target", `{"nftables":[{"chain":{"family":"ip","table":"t","name":"c"}},{"rule":{"family":"ip","table":"t","chain":"c","handle":7,"expr":[{"jump":{}}]}}]}`,
			`nftables[1]: rule: rule handle 7 in chain "c", statement 0: jump: missing target`},
		{"statement not an object", `{"nftables":[{"chain":{"family":"ip","table":"t","name":"c"}},{"rule":{"family":"ip","table":"t","chain":"c","handle":7,"expr":[3]}}]}`,
			"statement 0: expected an object"},
		{"map element not a pair", `{"nftables":[{"map":{"family":"ip","table":"t","name":"m","type":"inet_service","map":"verdict","elem":["x"]}}]}`,
			`map: "m" element 0: map element needs key and value`},
		{"numgen mod zero", `{"nftables":[{"chain":{"family":"ip","table":"t","name":"c"}},{"rule":{"family":"ip","table":"t","chain":"c","expr":[{"vmap":{"key":{"numgen":{"mode":"random","mod":0}},"data":"@x"}}]}}]}`,
			"statement 0: vmap: key: numgen: mod 0 out of range"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseJSON(strings.NewReader(tt.in))
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

func FuzzParseJSON(f *testing.F) {
	// Small seeds (one Service of each layout, cut from the fixtures) keep
	// the fuzzer fast; mutating the whole 17 KB fixtures crawls.
	for _, name := range []string{"fuzz-seed-v137.json", "fuzz-seed-legacy.json"} {
		data, err := os.ReadFile("testdata/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`{"nftables":[{"chain":{"family":"ip","table":"t","name":"c"}},{"rule":{"family":"ip","table":"t","chain":"c","expr":[{"dnat":{"addr":{"map":{"key":{"numgen":{"mode":"random","mod":2}},"data":{"set":[[0,{"concat":["1.2.3.4",80]}]]}}}}}]}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		rs, err := ParseJSON(strings.NewReader(string(data)))
		if err != nil {
			return
		}
		// Whatever parsed must render and walk without panicking.
		for _, tb := range rs.Tables {
			for _, c := range tb.Chains {
				for _, r := range c.Rules {
					_ = r.Text()
				}
				_ = ChainTargets(tb, c.Name)
			}
		}
		_, _ = Walk(rs, testPacket("tcp", "10.0.1.5", "172.30.0.44", 80, dataplane.EntryPod), WalkOptions{})
	})
}
