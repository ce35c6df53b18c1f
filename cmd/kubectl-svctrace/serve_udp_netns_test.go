//go:build linux

package main

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/svctrace/kubectl-svctrace/internal/netnstest"
)

// TestServeClearsStaleUDPFlows sends datagrams from one client socket to a
// UDP Service, so that every one follows the same conntrack entry, then
// takes the endpoint that answered out of the Service and syncs again:
// the next datagram reaches another endpoint, because --serve deleted the
// entry as kube-proxy does. Left alone, the entry would keep the client on
// the old endpoint (still listening here) for as long as it talks.
func TestServeClearsStaleUDPFlows(t *testing.T) {
	eachServedMode(t, func(t *testing.T, m servedMode, tp *topo, dir string) {
		for i, ep := range tp.eps {
			go echoName(listenIn(t, tp.pods[i+1], func() (net.PacketConn, error) { return net.ListenPacket("udp", ":8053") }), ep)
		}
		client := listenIn(t, tp.client, func() (*net.UDPConn, error) {
			return net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP("10.244.0.2"), Port: 40053})
		})

		args := []string{"--serve", "--once", "--proxy-mode", m.name, "--replace-kube-proxy", "--node", "node-a", "-f", dir, "--cluster-cidr", "10.244.0.0/16"}
		appendObjects(t, dir, udpService(tp.eps, ""))
		if code, out, errOut := svctrace(t, t.Context(), tp.node, args...); code != 0 {
			t.Fatalf("--once: exit %d\n%s\n%s", code, out, errOut)
		}
		first := ask(t, client)
		for range 5 {
			if got := ask(t, client); got != first {
				t.Fatalf("one client socket reached %s, then %s: its datagrams should follow one conntrack entry", first, got)
			}
		}

		writeObjects(t, dir, "", tp.eps, "")
		appendObjects(t, dir, udpService(tp.eps, first))
		code, out, errOut := svctrace(t, t.Context(), tp.node, args...)
		if code != 0 || !strings.Contains(out, "stale UDP conntrack entries deleted") {
			t.Fatalf("--once after %s left: exit %d, want the stale entry deleted and said\n%s\n%s", first, code, out, errOut)
		}
		for range 5 {
			if got := ask(t, client); got == first || !strings.HasPrefix(got, "10.244.") {
				t.Fatalf("after %s left the Service the client still reaches %q\n%s", first, got, netnstest.Exec(t, tp.node, "", "conntrack", "-L"))
			}
		}
	})
}

// udpService is Service udp (10.96.0.30:53, UDP) over eps on port 8053,
// notReady among them not ready.
func udpService(eps []string, notReady string) string {
	var b strings.Builder
	b.WriteString(`---
apiVersion: v1
kind: Service
metadata: {name: udp, namespace: ns}
spec: {clusterIP: 10.96.0.30, clusterIPs: [10.96.0.30], ipFamilies: [IPv4], ports: [{name: dns, port: 53, protocol: UDP, targetPort: 8053}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: udp-1, namespace: ns, labels: {kubernetes.io/service-name: udp}}
addressType: IPv4
ports: [{name: dns, port: 8053, protocol: UDP}]
endpoints:
`)
	for _, ep := range eps {
		ready := ep != notReady
		fmt.Fprintf(&b, "- {addresses: [%s], conditions: {ready: %v, serving: %v}}\n", ep, ready, ready)
	}
	return b.String()
}

// echoName answers each datagram with name.
func echoName(pc net.PacketConn, name string) {
	buf := make([]byte, 64)
	for {
		_, from, err := pc.ReadFrom(buf)
		if err != nil {
			return
		}
		_, _ = pc.WriteTo([]byte(name), from)
	}
}

// ask sends a datagram to the udp Service and returns the answer.
func ask(t *testing.T, c *net.UDPConn) string {
	t.Helper()
	if _, err := c.WriteTo([]byte("?"), &net.UDPAddr{IP: net.ParseIP("10.96.0.30"), Port: 53}); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
	buf := make([]byte, 64)
	n, _, err := c.ReadFrom(buf)
	if err != nil {
		return "error: " + err.Error()
	}
	return string(buf[:n])
}

// TestServeSetsConntrackTimeouts: replacing kube-proxy, --serve sets the
// TCP conntrack timeouts kube-proxy sets (they are per network namespace;
// nf_conntrack_max is the host's and cannot be set from one) and
// route_localnet; scoped, it leaves the node's settings to kube-proxy.
func TestServeSetsConntrackTimeouts(t *testing.T) {
	for _, replace := range []bool{false, true} {
		ns, dir := netnstest.New(t, "srvct"), t.TempDir()
		writeObjects(t, dir, "service.kubernetes.io/service-proxy-name: svctrace", []string{"10.244.1.2"}, "")
		args := []string{"--serve", "--once", "--node", "node-a", "-f", dir}
		if replace {
			args = append(args, "--replace-kube-proxy")
		}
		if code, out, errOut := svctrace(t, t.Context(), ns, args...); code != 0 {
			t.Fatalf("%v: exit %d\n%s\n%s", args, code, out, errOut)
		}
		want := map[string]string{"netfilter/nf_conntrack_tcp_timeout_established": "432000", "netfilter/nf_conntrack_tcp_timeout_close_wait": "60",
			"ipv4/conf/all/route_localnet": "0"}
		if replace {
			want = map[string]string{"netfilter/nf_conntrack_tcp_timeout_established": "86400", "netfilter/nf_conntrack_tcp_timeout_close_wait": "3600",
				"ipv4/conf/all/route_localnet": "1"}
		}
		for name, v := range want {
			got := strings.TrimSpace(netnstest.Exec(t, ns, "", "cat", "/proc/sys/net/"+name))
			if got != v {
				t.Errorf("replace %v: net.%s = %s, want %s", replace, strings.ReplaceAll(name, "/", "."), got, v)
			}
		}
	}
}
