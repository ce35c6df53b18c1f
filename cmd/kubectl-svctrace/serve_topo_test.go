//go:build linux

package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netns"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/svctrace/kubectl-svctrace/internal/netnstest"
)

// topo is a node namespace routing between a client pod namespace
// (10.244.0.2) and three endpoint pod namespaces (10.244.N.2, N=1..3),
// each endpoint answering TCP on :8080 with its own address.
type topo struct {
	node, client string
	eps          []string // endpoint addresses
	// pods are the namespaces linked to the node, by link number.
	pods map[int]string
}

func newTopo(t *testing.T) *topo {
	t.Helper()
	tp := &topo{node: netnstest.New(t, "srvnode"), client: netnstest.New(t, "srvpod"), pods: map[int]string{}}
	ipNS(t, tp.node, "link", "set", "lo", "up")
	netnstest.Exec(t, tp.node, "", "sysctl", "-qw", "net.ipv4.ip_forward=1")
	link(t, tp.node, tp.client, 0)
	tp.pods[0] = tp.client
	// A node routes other addresses to an uplink: a packet to a Service
	// without endpoints must reach the FORWARD chain, where kube-proxy's
	// REJECT waits, instead of failing routing. (Routing it back out of
	// the client's own link makes the node send redirects, and the
	// client never sees the REJECT.)
	tp.pods[9] = netnstest.New(t, "srvup")
	link(t, tp.node, tp.pods[9], 9)
	ipNS(t, tp.node, "route", "add", "default", "via", "10.244.9.2")
	for i := 1; i <= 3; i++ {
		ep := netnstest.New(t, "srvep")
		link(t, tp.node, ep, i)
		tp.pods[i] = ep
		addr := fmt.Sprintf("10.244.%d.2", i)
		tp.eps = append(tp.eps, addr)
		ln := listenIn(t, ep, func() (net.Listener, error) { return net.Listen("tcp", ":8080") })
		go answer(ln, addr)
	}
	return tp
}

// addIPv6 makes the topology dual-stack: fd00:10:244:i::1 on the node's
// side of link i, fd00:10:244:i::2 in the pod, routed as IPv4 is. The
// endpoints' listeners already take both families.
func (tp *topo) addIPv6(t *testing.T) {
	t.Helper()
	netnstest.Exec(t, tp.node, "", "sysctl", "-qw", "net.ipv6.conf.all.forwarding=1")
	for i, pod := range tp.pods {
		// nodad: the addresses are usable at once, not after duplicate
		// address detection.
		ipNS(t, tp.node, "addr", "add", fmt.Sprintf("fd00:10:244:%d::1/64", i), "dev", fmt.Sprintf("veth%d", i), "nodad")
		ipNS(t, pod, "addr", "add", fmt.Sprintf("fd00:10:244:%d::2/64", i), "dev", "eth0", "nodad")
		ipNS(t, pod, "-6", "route", "add", "default", "via", fmt.Sprintf("fd00:10:244:%d::1", i))
	}
	ipNS(t, tp.node, "-6", "route", "add", "default", "via", "fd00:10:244:9::2")
	// Neighbour discovery needs each link's link-local address, which is
	// tentative until its duplicate address detection ends; a first
	// connection before then times out whatever the rules say.
	for ns := range tp.allNS() {
		for start := time.Now(); ; time.Sleep(100 * time.Millisecond) {
			out, err := exec.Command("ip", "-n", ns, "-6", "addr", "show", "tentative").CombinedOutput()
			if err == nil && len(bytes.TrimSpace(out)) == 0 {
				break
			}
			if time.Since(start) > 10*time.Second {
				t.Fatalf("%s: IPv6 addresses still tentative after 10s: %s %v", ns, out, err)
			}
		}
	}
}

// allNS yields the node's namespace and every pod's.
func (tp *topo) allNS() func(func(string) bool) {
	return func(yield func(string) bool) {
		if !yield(tp.node) {
			return
		}
		for _, ns := range tp.pods {
			if !yield(ns) {
				return
			}
		}
	}
}

func answer(ln net.Listener, name string) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		_, _ = io.WriteString(c, name)
		c.Close()
	}
}

// link connects node and pod with a veth pair: 10.244.i.1 on the node,
// 10.244.i.2 in the pod, whose default route goes through the node.
func link(t *testing.T, node, pod string, i int) {
	t.Helper()
	nodeIf := fmt.Sprintf("veth%d", i)
	ipNS(t, node, "link", "add", nodeIf, "type", "veth", "peer", "name", "eth0", "netns", pod)
	ipNS(t, node, "addr", "add", fmt.Sprintf("10.244.%d.1/24", i), "dev", nodeIf)
	ipNS(t, node, "link", "set", nodeIf, "up")
	ipNS(t, pod, "addr", "add", fmt.Sprintf("10.244.%d.2/24", i), "dev", "eth0")
	ipNS(t, pod, "link", "set", "eth0", "up")
	ipNS(t, pod, "link", "set", "lo", "up")
	ipNS(t, pod, "route", "add", "default", "via", fmt.Sprintf("10.244.%d.1", i))
}

func ipNS(t *testing.T, ns string, args ...string) {
	t.Helper()
	if out, err := exec.Command("ip", append([]string{"-n", ns}, args...)...).CombinedOutput(); err != nil {
		t.Fatalf("ip -n %s %s: %v: %s", ns, strings.Join(args, " "), err, out)
	}
}

// listenIn opens a listener (or any socket) with listen inside ns; it is
// closed when the test ends.
func listenIn[L io.Closer](t *testing.T, ns string, listen func() (L, error)) L {
	t.Helper()
	var l L
	inNS(t, ns, func() error {
		var err error
		l, err = listen()
		return err
	})
	t.Cleanup(func() { l.Close() })
	return l
}

// inNS runs fn on a thread inside ns; it may run on any goroutine.
func inNS(t *testing.T, ns string, fn func() error) {
	if err := doNS(ns, fn); err != nil {
		t.Fatalf("in %s: %v", ns, err)
	}
}

func doNS(ns string, fn func() error) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	orig, err := netns.Get()
	if err != nil {
		return err
	}
	defer orig.Close()
	h, err := netns.GetFromName(ns)
	if err != nil {
		return err
	}
	defer h.Close()
	if err := netns.Set(h); err != nil {
		return err
	}
	defer func() {
		if err := netns.Set(orig); err != nil {
			panic(err)
		}
	}()
	return fn()
}

// connect opens n new connections from the client pod to addr and counts
// the endpoints that answered; refused connections count under "refused".
func (tp *topo) connect(t *testing.T, addr string, n int) map[string]int {
	t.Helper()
	got := map[string]int{}
	inNS(t, tp.client, func() error {
		for i := 0; i < n; i++ {
			got[dialOnce(addr)]++
		}
		return nil
	})
	return got
}

func dialOnce(addr string) string {
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		if strings.Contains(err.Error(), "refused") {
			return "refused"
		}
		return "error: " + err.Error()
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	b, err := io.ReadAll(c)
	if err != nil {
		return "error: " + err.Error()
	}
	return string(b)
}

// svctrace runs the command in-process inside ns and returns its exit
// code, standard output and standard error.
func svctrace(t *testing.T, ctx context.Context, ns string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := -1
	if err := doNS(ns, func() error {
		code = run(ctx, args, genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return code, out.String(), errOut.String()
}

// objects writes the cluster the tests serve into dir: web (NodePort
// 30080), sticky (ClientIP affinity) over the three endpoints, and empty
// without endpoints. labels go on Services and slices.
func writeObjects(t *testing.T, dir, labels string, eps []string, notReady string) {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, `apiVersion: v1
kind: Node
metadata: {name: node-a}
status: {addresses: [{type: InternalIP, address: 10.244.0.1}], conditions: [{type: Ready, status: "True"}]}
`)
	for i, s := range []struct{ name, extra string }{
		{"web", "type: NodePort, "},
		{"sticky", "sessionAffinity: ClientIP, "},
		{"empty", ""},
	} {
		ip := fmt.Sprintf("10.96.0.%d", 10+i)
		np := ""
		if s.name == "web" {
			np = ", nodePort: 30080"
		}
		fmt.Fprintf(&b, `---
apiVersion: v1
kind: Service
metadata: {name: %s, namespace: ns, labels: {%s}}
spec: {%sclusterIP: %s, clusterIPs: [%s], ipFamilies: [IPv4], ports: [{name: http, port: 80, protocol: TCP, targetPort: 8080%s}]}
`, s.name, labels, s.extra, ip, ip, np)
		if s.name == "empty" {
			continue
		}
		fmt.Fprintf(&b, `---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: %s-1, namespace: ns, labels: {kubernetes.io/service-name: %s%s}}
addressType: IPv4
ports: [{name: http, port: 8080, protocol: TCP}]
endpoints:
`, s.name, s.name, strings.TrimSuffix(", "+labels, ", "))
		for _, ep := range eps {
			fmt.Fprintf(&b, "- {addresses: [%s], conditions: {ready: %v}}\n", ep, ep != notReady)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "cluster.yaml"), []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
}
