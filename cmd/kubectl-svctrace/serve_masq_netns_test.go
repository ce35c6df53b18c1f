//go:build linux

package main

import (
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/svctrace/kubectl-svctrace/internal/netnstest"
)

// TestServeMasqueradeAll serves a node namespace with `--serve --once`,
// then with `--masquerade-all`, in each mode, and asks an endpoint who
// connected: a pod inside --cluster-cidr keeps its own address without
// the flag and is masqueraded to the node's address on the endpoint's
// link with it, as kube-proxy's --masquerade-all does. The trace of the
// node finds no drift either way.
func TestServeMasqueradeAll(t *testing.T) {
	eachServedMode(t, func(t *testing.T, m servedMode, tp *topo, dir string) {
		writeWhoami(t, dir)
		go answerPeer(listenIn(t, tp.pods[1], func() (net.Listener, error) { return net.Listen("tcp", ":8081") }))

		args := []string{"--serve", "--once", "--proxy-mode", m.name, "--replace-kube-proxy", "--node", "node-a", "-f", dir, "--cluster-cidr", "10.244.0.0/16"}
		for _, tc := range []struct {
			flags []string
			peer  string
		}{
			{nil, "10.244.0.2"},
			{[]string{"--masquerade-all"}, "10.244.1.1"},
		} {
			if code, out, errOut := svctrace(t, t.Context(), tp.node, append(args, tc.flags...)...); code != 0 {
				t.Fatalf("%v: exit %d\n%s\n%s", tc.flags, code, out, errOut)
			}
			got := tp.connect(t, "10.96.0.20:80", 5)
			if got[tc.peer] != 5 {
				t.Errorf("%v: the endpoint saw %v, want the client as %s every time\n%s", tc.flags, got, tc.peer, netnstest.Exec(t, tp.node, "", m.rules...))
			}
			checkNoDrift(t, tp, dir, m)
		}
	})
}

// writeWhoami adds Service whoami (10.96.0.20:80) to dir's objects, whose
// one endpoint, 10.244.1.2:8081, answers with its client's address.
func writeWhoami(t *testing.T, dir string) {
	t.Helper()
	const whoami = `---
apiVersion: v1
kind: Service
metadata: {name: whoami, namespace: ns}
spec: {clusterIP: 10.96.0.20, clusterIPs: [10.96.0.20], ipFamilies: [IPv4], ports: [{name: http, port: 80, protocol: TCP, targetPort: 8081}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: whoami-1, namespace: ns, labels: {kubernetes.io/service-name: whoami}}
addressType: IPv4
ports: [{name: http, port: 8081, protocol: TCP}]
endpoints:
- {addresses: [10.244.1.2], conditions: {ready: true}}
`
	appendObjects(t, dir, whoami)
}

// appendObjects adds YAML documents to dir's objects (writeObjects').
func appendObjects(t *testing.T, dir, docs string) {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(dir, "cluster.yaml"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := io.WriteString(f, docs); err != nil {
		t.Fatal(err)
	}
}

// answerPeer answers each connection with the address it came from.
func answerPeer(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		host, _, _ := strings.Cut(c.RemoteAddr().String(), ":")
		_, _ = fmt.Fprint(c, host)
		c.Close()
	}
}
