//go:build linux

package main

import (
	"testing"
)

// TestServeNodePortAddresses serves a node namespace with and without
// --nodeport-addresses, in each mode, and connects to the NodePort at two
// of the node's addresses: 10.244.0.1 (its Node object's InternalIP) and
// 10.244.1.1 (an interface address the Node object does not list, which
// kube-proxy still selects by CIDR). Each answers exactly when the flag
// selects it, or, unset, when the mode's default does (iptables: every
// local address; nftables: the primary one). The trace of the node finds
// no drift.
func TestServeNodePortAddresses(t *testing.T) {
	eachServedMode(t, func(t *testing.T, m servedMode, tp *topo, dir string) {
		args := []string{"--serve", "--once", "--proxy-mode", m.name, "--replace-kube-proxy", "--node", "node-a", "-f", dir, "--cluster-cidr", "10.244.0.0/16"}
		for _, tc := range []struct {
			flags      []string
			own, other bool // whether 10.244.0.1:30080 and 10.244.1.1:30080 answer
		}{
			{nil, true, m.name == "iptables"},
			{[]string{"--nodeport-addresses", "10.244.1.0/24"}, false, true},
			{[]string{"--nodeport-addresses", "primary"}, true, false},
			{[]string{"--nodeport-addresses", "10.244.0.0/24,10.244.1.0/24"}, true, true},
			{[]string{"--nodeport-addresses", "192.0.2.0/24"}, false, false},
		} {
			if code, out, errOut := svctrace(t, t.Context(), tp.node, append(args, tc.flags...)...); code != 0 {
				t.Fatalf("%v: exit %d\n%s\n%s", tc.flags, code, out, errOut)
			}
			for addr, want := range map[string]bool{"10.244.0.1:30080": tc.own, "10.244.1.1:30080": tc.other} {
				got := tp.connect(t, addr, 6)
				if answered := got["refused"] == 0 && endpointsOnly(got, tp.eps); answered != want || !want && got["refused"] != 6 {
					t.Errorf("%v: %s got %v, want answered by the endpoints: %v", tc.flags, addr, got, want)
				}
			}
			checkNoDrift(t, tp, dir, m)
		}
	})
}

// endpointsOnly reports whether every answer came from one of eps.
func endpointsOnly(got map[string]int, eps []string) bool {
	for k := range got {
		found := false
		for _, ep := range eps {
			found = found || k == ep
		}
		if !found {
			return false
		}
	}
	return len(got) > 0
}

// TestServeLocalhostNodePorts connects from the node itself to a NodePort
// on 127.0.0.1: iptables mode accepts it as kube-proxy does (rules, and
// route_localnet=1 set on the node), and refuses it with
// --iptables-localhost-nodeports=false; the trace finds no drift either way.
func TestServeLocalhostNodePorts(t *testing.T) {
	m := servedModes[0]
	tp, dir := servedTopo(t, m)
	args := []string{"--serve", "--once", "--proxy-mode", "iptables", "--replace-kube-proxy", "--node", "node-a", "-f", dir, "--cluster-cidr", "10.244.0.0/16"}
	for _, tc := range []struct {
		flag   string
		answer bool
	}{{"--iptables-localhost-nodeports=true", true}, {"--iptables-localhost-nodeports=false", false}} {
		if code, out, errOut := svctrace(t, t.Context(), tp.node, append(args, tc.flag)...); code != 0 {
			t.Fatalf("%s: exit %d\n%s\n%s", tc.flag, code, out, errOut)
		}
		got := map[string]int{}
		inNS(t, tp.node, func() error {
			for range 6 {
				got[dialOnce("127.0.0.1:30080")]++
			}
			return nil
		})
		if answered := endpointsOnly(got, tp.eps); answered != tc.answer || !tc.answer && got["refused"] != 6 {
			t.Errorf("%s: 127.0.0.1:30080 from the node got %v, want answered by the endpoints: %v", tc.flag, got, tc.answer)
		}
		checkNoDrift(t, tp, dir, m)
	}
}
