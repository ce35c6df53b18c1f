package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/svctrace/kubectl-svctrace/snapshot"
	"github.com/svctrace/kubectl-svctrace/source"
)

// demoObjects are the demo cluster's API objects.
func demoObjects(t *testing.T) []runtime.Object {
	t.Helper()
	f, err := os.Open("../../demo/hostnames.yaml")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	objs, err := source.Decode("hostnames.yaml", f)
	if err != nil {
		t.Fatal(err)
	}
	return objs
}

// TestNodeWithoutRights: a user who may not create the agent pod gets one
// finding naming the role to bind, and the rest of the trace.
func TestNodeWithoutRights(t *testing.T) {
	client := fake.NewClientset(demoObjects(t)...)
	client.PrependReactor("create", "pods", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(schema.GroupResource{Resource: "pods"}, "", errors.New(`User "viewer" cannot create resource "pods" in API group "" in the namespace "kube-system"`))
	})
	r := runWith(t, client, false, nil, "hostnames", "--node", "node-1")
	for _, want := range []string{"NodeAgentNotRun", "--clusterrole=svctrace-node-reader", "PodsNotReady", "DNAT 10.244.2.5:9376"} {
		if !strings.Contains(r.out, want) {
			t.Errorf("output lacks %q:\n%s", want, r.out)
		}
	}
	if pods, _ := client.CoreV1().Pods("kube-system").List(t.Context(), metav1.ListOptions{}); len(pods.Items) != 0 {
		t.Errorf("%d agent pods left", len(pods.Items))
	}
}

// TestBundleReplay: -f DIR with a --save bundle walks the node snapshot in
// it, as --iptables-save would.
func TestBundleReplay(t *testing.T) {
	dir := t.TempDir()
	objs, err := os.ReadFile("../../demo/hostnames.yaml")
	if err != nil {
		t.Fatal(err)
	}
	save, err := os.ReadFile("../../demo/node-1.iptables-save")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "nodes"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "objects.yaml"), objs, 0o644); err != nil {
		t.Fatal(err)
	}
	s := &snapshot.Snapshot{Format: snapshot.Format, Node: "node-1", Sections: []snapshot.Section{
		{Name: snapshot.IPTablesNFT, Source: "chroot /host /usr/sbin/iptables-nft-save -c", Output: string(save)},
		{Name: snapshot.IPTablesLegacy, Source: "chroot /host /usr/sbin/iptables-legacy-save -c", Output: string(save)},
		{Name: snapshot.ProxyMode, Source: "http://127.0.0.1:10249/proxyMode", Output: "iptables"},
		{Name: snapshot.Healthz, Output: "{}"},
		{Name: snapshot.Metrics, Output: ""},
	}}
	f, err := os.Create(filepath.Join(dir, "nodes", "node-1.snapshot"))
	if err != nil {
		t.Fatal(err)
	}
	if err := snapshot.Encode(f, s); err != nil {
		t.Fatal(err)
	}
	f.Close()
	r := runWith(t, nil, false, nil, "hostnames", "-f", dir, "--node", "node-1")
	for _, want := range []string{"node/node-1: chroot /host /usr/sbin/iptables-nft-save -c", "KUBE-SEP-3C5XT2CPGWXUSCZF (50.0%) → DNAT 10.244.2.5:9376", "MixedIPTablesBackends"} {
		if !strings.Contains(r.out, want) {
			t.Errorf("output lacks %q:\n%s\n%s", want, r.out, r.errOut)
		}
	}
	// A corrupt snapshot is a clear error, not an empty trace.
	if err := os.WriteFile(filepath.Join(dir, "nodes", "node-1.snapshot"), []byte("-----BEGIN SVCTRACE SNAPSHOT v1-----\nxx"), 0o644); err != nil {
		t.Fatal(err)
	}
	r = runWith(t, nil, false, nil, "hostnames", "-f", dir, "--node", "node-1")
	if r.code != ExitFailed || !strings.Contains(r.errOut, "node-1.snapshot: snapshot is truncated") {
		t.Errorf("corrupt snapshot: exit %d, stderr %q", r.code, r.errOut)
	}
}

// TestAllNodesWithoutRights: --all-nodes lists every node; a node whose
// agent cannot start is a row with its error, listed first, and exit 3.
func TestAllNodesWithoutRights(t *testing.T) {
	f, err := os.Open("../../demo/hostnames.yaml")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	objs, err := source.Decode("hostnames.yaml", f)
	if err != nil {
		t.Fatal(err)
	}
	client := fake.NewClientset(objs...)
	client.PrependReactor("create", "pods", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(schema.GroupResource{Resource: "pods"}, "", errors.New("no"))
	})
	r := runWith(t, client, false, nil, "hostnames", "--all-nodes", "--max-nodes", "1")
	if r.code != ExitFindings {
		t.Errorf("exit %d, want 3\n%s%s", r.code, r.out, r.errOut)
	}
	for _, want := range []string{"NODE", "node-1", "node-2", "not allowed to create pods", "NodeAgentNotRun"} {
		if !strings.Contains(r.out, want) {
			t.Errorf("output lacks %q:\n%s", want, r.out)
		}
	}
	for _, tc := range [][]string{
		{"hostnames", "--all-nodes", "--node", "node-1"},
		{"hostnames", "--all-nodes", "--max-nodes", "0"},
		{"hostnames", "--all-nodes", "-f", "x.yaml"},
		{"hostnames", "--all-nodes", "-o", "yaml"},
		{"hostnames", "--demo", "--save", "x"},
	} {
		if r := runWith(t, client, false, nil, tc...); r.code != ExitUsage {
			t.Errorf("%v: exit %d, want 2 (%s)", tc, r.code, r.errOut)
		}
	}
}
