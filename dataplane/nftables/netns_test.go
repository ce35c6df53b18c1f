package nftables

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/svctrace/kubectl-svctrace/dataplane"
	"github.com/svctrace/kubectl-svctrace/internal/netnstest"
)

func TestRealNftables(t *testing.T) {
	netnstest.Require(t, "ip", "nft")
	tests := []struct {
		layout string
		cases  map[Packet]string
	}{
		{"v137", map[Packet]string{
			testPacket("tcp", "10.0.1.5", "172.30.0.41", 80, dataplane.EntryPod):      "dnat 10.180.0.1:80 p=1.000",
			testPacket("tcp", "10.0.1.5", "172.30.0.44", 80, dataplane.EntryPod):      "dnat 10.180.0.4:80 p=0.500; dnat 10.180.0.5:80 p=0.500",
			testPacket("udp", "192.168.0.2", "172.30.0.47", 53, dataplane.EntryNode):  "dnat 10.180.0.7:53 masquerade p=0.333; dnat 10.180.0.8:53 masquerade p=0.333; dnat 10.180.0.9:53 masquerade p=0.333",
			testPacket("tcp", "10.0.1.5", "172.30.0.45", 80, dataplane.EntryPod):      "dnat 10.180.0.3:80 p=1.000",
			testPacket("tcp", "10.0.1.5", "172.30.0.46", 80, dataplane.EntryPod):      "reject p=1.000",
			testPacket("tcp", "198.51.100.1", "5.6.7.8", 80, dataplane.EntryExternal): "drop p=1.000",
		}},
		{"legacy", map[Packet]string{
			testPacket("tcp", "10.0.1.5", "172.30.0.41", 80, dataplane.EntryPod):     "dnat 10.180.0.1:80 p=1.000",
			testPacket("tcp", "10.0.1.5", "172.30.0.44", 80, dataplane.EntryPod):     "dnat 10.180.0.4:80 p=0.500; dnat 10.180.0.5:80 p=0.500",
			testPacket("udp", "192.168.0.2", "172.30.0.47", 53, dataplane.EntryNode): "dnat 10.180.0.7:53 p=0.333; dnat 10.180.0.8:53 p=0.333; dnat 10.180.0.9:53 p=0.333",
			testPacket("tcp", "10.0.1.5", "172.30.0.46", 80, dataplane.EntryPod):     "reject p=1.000",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.layout, func(t *testing.T) {
			ns := netnstest.New(t, "nft")
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			in, err := os.Open("testdata/" + tt.layout + ".nft")
			if err != nil {
				t.Fatal(err)
			}
			defer in.Close()
			load := exec.CommandContext(ctx, "ip", "netns", "exec", ns, "nft", "-f", "-")
			load.Stdin = in
			if out, err := load.CombinedOutput(); err != nil {
				t.Fatalf("nft -f testdata/%s.nft: %v: %s", tt.layout, err, out)
			}
			rs, err := ParseJSON(strings.NewReader(netnstest.Exec(t, ns, "", "nft", "-j", "list", "ruleset")))
			if err != nil {
				t.Fatal(err)
			}
			if rs.KubeProxy("ip") == nil {
				t.Fatal("loaded table ip kube-proxy is not in the listing")
			}
			for pkt, want := range tt.cases {
				outs, err := Walk(rs, pkt, nodeOpts)
				if err != nil {
					t.Fatal(err)
				}
				if got := summary(outs); got != want {
					t.Errorf("%s %s:%d: got %s, want %s", pkt.Proto, pkt.Dst, pkt.DstPort, got, want)
				}
			}
		})
	}
}
