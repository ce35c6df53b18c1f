package iptables

import (
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/svctrace/kubectl-svctrace/dataplane"
)

// FuzzParse checks that no input makes Parse, Walk or Drift panic, and that
// a parsed dump's rules point back at lines of the input.
func FuzzParse(f *testing.F) {
	for _, name := range []string{"kube-proxy.restore", "kube-proxy-nft.save", "kube-proxy-legacy.save"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	f.Add("*nat\n:A - [0:0]\n-A A -m comment --comment \"x\\\"y\" -j A\nCOMMIT\n")
	f.Add("*filter\n:A - [0:0]\n[1:2] -A A ! -s 10.0.0.0/255.0.0.0 -p 6 --dport ! 80 -j REJECT\nCOMMIT\n")
	f.Fuzz(func(t *testing.T, text string) {
		d, err := Parse(text)
		if err != nil {
			return
		}
		for _, tb := range d.Tables {
			for _, c := range tb.Chains {
				for _, r := range c.Rules {
					if r.Line < 1 || r.Line > d.Lines() {
						t.Fatalf("rule line %d outside 1..%d", r.Line, d.Lines())
					}
				}
			}
		}
		p := Packet{Proto: "tcp", Src: netip.MustParseAddr("10.0.0.5"), Dst: netip.MustParseAddr("172.30.0.41"), DstPort: 80}
		_, _ = Walk(d, p, dataplane.EntryPod, Node{})
		_ = Drift(d, d, Service{PortNames: []string{"ns1/svc1:p80"}})
	})
}
