//go:build linux

package main

import (
	"strings"
	"testing"
)

// TestServeNodePortAddresses serves a node namespace in iptables mode with
// and without --nodeport-addresses and connects to the NodePort at two of
// the node's addresses: 10.244.0.1 (its Node object's InternalIP) and
// 10.244.1.1 (an interface address the Node object does not list, which
// kube-proxy still selects by CIDR). Each answers exactly when the flag
// selects it; the trace of the node finds no drift.
func TestServeNodePortAddresses(t *testing.T) {
	m := servedModes[0]
	tp, dir := servedTopo(t, m)
	args := []string{"--serve", "--once", "--proxy-mode", "iptables", "--replace-kube-proxy", "--node", "node-a", "-f", dir, "--cluster-cidr", "10.244.0.0/16"}
	for _, tc := range []struct {
		flags      []string
		own, other bool // whether 10.244.0.1:30080 and 10.244.1.1:30080 answer
	}{
		{nil, true, true},
		{[]string{"--nodeport-addresses", "10.244.1.0/24"}, false, true},
		{[]string{"--nodeport-addresses", "primary"}, true, false},
		{[]string{"--nodeport-addresses", "10.244.0.0/24,10.244.1.0/24"}, true, true},
	} {
		if code, out, errOut := svctrace(t, t.Context(), tp.node, append(args, tc.flags...)...); code != 0 {
			t.Fatalf("%v: exit %d\n%s\n%s", tc.flags, code, out, errOut)
		}
		for addr, want := range map[string]bool{"10.244.0.1:30080": tc.own, "10.244.1.1:30080": tc.other} {
			got := tp.connect(t, addr, 6)
			if answered := got["refused"] == 0 && len(got) > 0 && !strings.HasPrefix(firstKey(got), "error"); answered != want || (!want && got["refused"] != 6) {
				t.Errorf("%v: %s got %v, want answered by the endpoints: %v", tc.flags, addr, got, want)
			}
		}
		checkNoDrift(t, tp, dir, m)
	}
}

func firstKey(m map[string]int) string {
	for k := range m {
		return k
	}
	return ""
}
