//go:build ipvsvm && linux

package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/svctrace/kubectl-svctrace/dataplane"
	"github.com/svctrace/kubectl-svctrace/dataplane/dataplanetest"
	model "github.com/svctrace/kubectl-svctrace/dataplane/ipvs"
	"github.com/svctrace/kubectl-svctrace/kernel/ipset"
	kipvs "github.com/svctrace/kubectl-svctrace/kernel/ipvs"
)

// The conformance tier (TestIPVS) boots the VM with a NIC, a kubeconfig
// for the harness's API server on the host, and kube-proxy binaries.
const vmKubeconfig = "/svctrace/kubeconfig"

// vmNode is what one IPVS-mode program left on the VM: virtual servers,
// addresses on kube-ipvs0, KUBE- sets and KUBE- chains (and jumps to them).
type vmNode struct {
	Table model.Table
	Bound []string
	Sets  map[string][]string
	Rules map[string][]string
}

func readVMNode(t *testing.T) vmNode {
	t.Helper()
	ctx := t.Context()
	k, err := kipvs.NewNetlink(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	n := vmNode{Sets: map[string][]string{}, Rules: map[string][]string{}}
	if n.Table, err = kipvs.ReadTable(ctx, k); err != nil {
		t.Fatal(err)
	}
	n.Table = withoutConnCounts(n.Table)
	addrs, err := k.ListAddresses(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		n.Bound = append(n.Bound, a.String())
	}
	// The ipset tool is the reference here: kube-proxy writes with it.
	for _, line := range strings.Split(vmShow(t, "ipset", "save"), "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) >= 2 && f[0] == "create" && strings.HasPrefix(f[1], "KUBE-"):
			n.Sets[f[1]] = []string{}
		case len(f) >= 3 && f[0] == "add" && strings.HasPrefix(f[1], "KUBE-"):
			e, err := ipset.Canonical(f[2])
			if err != nil {
				t.Fatal(err)
			}
			n.Sets[f[1]] = append(n.Sets[f[1]], e)
		}
	}
	for name := range n.Sets {
		slices.Sort(n.Sets[name])
	}
	checkSetsRead(t, n.Sets)
	// Both families: a dual-stack node's IPv6 proxier writes the same
	// chains through ip6tables.
	for _, save := range []string{"iptables-legacy-save", "ip6tables-legacy-save"} {
		for _, table := range []string{"nat", "filter"} {
			key := strings.TrimSuffix(save, "-legacy-save") + " " + table + " "
			for _, line := range strings.Split(vmShow(t, save, "-t", table), "\n") {
				chain, _, _ := strings.Cut(strings.TrimPrefix(line, "-A "), " ")
				switch {
				case strings.HasPrefix(line, ":KUBE-"):
					name, _, _ := strings.Cut(line[1:], " ")
					n.Rules[key+name] = append(n.Rules[key+name], []string{}...)
				case strings.HasPrefix(line, "-A KUBE-"), strings.HasPrefix(line, "-A ") && strings.Contains(line, "-j KUBE-"):
					n.Rules[key+chain] = append(n.Rules[key+chain], line)
				}
			}
		}
	}
	return n
}

// checkSetsRead wants kernel/ipset's netlink reading to agree with the
// ipset tool's.
func checkSetsRead(t *testing.T, want map[string][]string) {
	t.Helper()
	ctx := t.Context()
	sets, err := ipset.NewNetlink(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for name, entries := range want {
		got, err := sets.ListEntries(ctx, name)
		if err != nil {
			t.Errorf("netlink: %v", err)
			continue
		}
		if !slices.Equal(got, entries) {
			t.Errorf("ip set %s read over netlink: %v; the ipset tool lists %v", name, got, entries)
		}
	}
}

func withoutConnCounts(t model.Table) model.Table {
	for i := range t.VirtualServers {
		for j := range t.VirtualServers[i].RealServers {
			t.VirtualServers[i].RealServers[j].ActiveConns, t.VirtualServers[i].RealServers[j].InactiveConns = 0, 0
		}
	}
	return t
}

// runKubeProxy starts a kube-proxy binary in IPVS mode against the host's
// API server and waits for its first sync; stop ends it with SIGTERM,
// which leaves its state in place.
func runKubeProxy(t *testing.T, bin, node, cidr string) (stop func()) {
	t.Helper()
	var log bytes.Buffer
	cmd := exec.Command(bin, "--proxy-mode=ipvs", "--kubeconfig="+vmKubeconfig, "--hostname-override="+node,
		"--cluster-cidr="+cidr, "--metrics-bind-address=127.0.0.1:10249", "--v=2")
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	stop = func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	}
	deadline := time.Now().Add(3 * time.Minute)
	for time.Now().Before(deadline) {
		if syncedOnce() {
			time.Sleep(5 * time.Second) // let the syncs the first one queued run
			return stop
		}
		time.Sleep(time.Second)
	}
	stop()
	t.Fatalf("%s did not sync within 3 minutes; its log:\n%s", bin, tail(log.String(), 60))
	return nil
}

// syncedOnce reads kube-proxy's metrics for a finished sync.
func syncedOnce() bool {
	resp, err := http.Get("http://127.0.0.1:10249/metrics")
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(resp.Body)
	for _, line := range strings.Split(b.String(), "\n") {
		if strings.HasPrefix(line, "kubeproxy_sync_proxy_rules_last_timestamp_seconds") && !strings.HasSuffix(line, " 0") {
			return true
		}
	}
	return false
}

func tail(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// TestVMKubeProxyExactness has real kube-proxy v1.37.2 program the VM in
// IPVS mode from the harness's objects, records what it left, removes it
// with --serve --cleanup, then has `--serve --proxy-mode ipvs
// --replace-kube-proxy --once` program the same objects and wants the
// same virtual and real servers, addresses, ip sets and iptables rules.
// Then kube-proxy v1.34.4 programs the VM and the trace's IPVS checks
// must find no drift.
func TestVMKubeProxyExactness(t *testing.T) {
	if _, err := os.Stat(vmKubeconfig); err != nil {
		t.Skip("no control plane for this VM (run the conformance tier's TestIPVS)")
	}
	node, cidr := os.Getenv("SVCTRACE_VM_NODE"), os.Getenv("SVCTRACE_VM_CLUSTER_CIDR")
	stop := runKubeProxy(t, "/svctrace/kube-proxy-v1.37.2", node, cidr)
	stop()
	kube := readVMNode(t)
	if len(kube.Table.VirtualServers) == 0 {
		t.Fatal("kube-proxy v1.37.2 programmed no virtual server")
	}
	v6 := 0
	for name := range kube.Sets {
		if strings.HasPrefix(name, "KUBE-6-") {
			v6++
		}
	}
	t.Logf("kube-proxy v1.37.2: %d virtual servers, %d addresses, %d sets (%d of them IPv6)", len(kube.Table.VirtualServers), len(kube.Bound), len(kube.Sets), v6)
	fmt.Printf("=== kube-proxy v1.37.2 ipvsadm -Ln\n%s=== end\n", vmShow(t, "ipvsadm", "-Ln"))

	serve := []string{"--serve", "--proxy-mode", "ipvs", "--replace-kube-proxy", "--kubeconfig", vmKubeconfig, "--node", node, "--cluster-cidr", cidr}
	if code, out, errOut := vmRun(t, append(serve, "--cleanup")...); code != 0 {
		t.Fatalf("--cleanup after kube-proxy: exit %d\n%s\n%s", code, out, errOut)
	}
	left := readVMNode(t)
	if len(left.Table.VirtualServers) != 0 || len(left.Sets) != 0 || len(left.Bound) != 0 {
		t.Errorf("--cleanup left kube-proxy's state: %+v", left)
	}
	if code, out, errOut := vmRun(t, append(serve, "--once")...); code != 0 {
		t.Fatalf("--serve --once: exit %d\n%s\n%s", code, out, errOut)
	}
	served := readVMNode(t)
	if d := cmp.Diff(kube, served, dataplanetest.EquateAddrs); d != "" {
		t.Errorf("--serve --proxy-mode ipvs differs from kube-proxy v1.37.2 (-kube-proxy +serve):\n%s", d)
	}
	if code, out, errOut := vmRun(t, append(serve, "--cleanup")...); code != 0 {
		t.Fatalf("--cleanup: exit %d\n%s\n%s", code, out, errOut)
	}

	stop = runKubeProxy(t, "/svctrace/kube-proxy-v1.34.4", node, cidr)
	defer stop()
	judgeVM(t, node)
}

// judgeVM runs the trace's IPVS checks (dataplane/ipvs.Proxier) on what
// the VM holds for the API server's objects: no drift wanted.
func judgeVM(t *testing.T, node string) {
	t.Helper()
	ctx := t.Context()
	cfg, err := clientcmd.BuildConfigFromFlags("", vmKubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	c := kubernetes.NewForConfigOrDie(cfg)
	objs, err := apiObjects(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	local, err := kipvs.LocalAddresses(ctx, model.DummyInterface)
	if err != nil {
		t.Fatal(err)
	}
	all, err := kipvs.LocalAddresses(ctx)
	if err != nil {
		t.Fatal(err)
	}
	p := model.Proxier{}
	want, err := p.Expect(dataplane.Node{Name: node, IPs: local, Family: "IPv4"}, objs)
	if err != nil {
		t.Fatal(err)
	}
	k, err := kipvs.NewNetlink(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	tbl, err := kipvs.ReadTable(ctx, k)
	if err != nil {
		t.Fatal(err)
	}
	got := &model.State{Table: tbl, Local: all, LocalRead: true}
	for _, d := range p.Drift(want, got) {
		t.Errorf("kube-proxy v1.34.4 in IPVS mode: drift %s at %s (service %s)", d.Kind, model.Place(d.Where), d.Service)
	}
	t.Logf("kube-proxy v1.34.4: %d virtual servers judged for %d Services", len(tbl.VirtualServers), len(want.Expected))
}

func apiObjects(ctx context.Context, c kubernetes.Interface) (dataplane.Objects, error) {
	var objs dataplane.Objects
	svcs, err := c.CoreV1().Services("").List(ctx, metav1.ListOptions{})
	if err != nil {
		return objs, err
	}
	for i := range svcs.Items {
		objs.Services = append(objs.Services, &svcs.Items[i])
	}
	eps, err := c.DiscoveryV1().EndpointSlices("").List(ctx, metav1.ListOptions{})
	if err != nil {
		return objs, err
	}
	for i := range eps.Items {
		objs.Slices = append(objs.Slices, &eps.Items[i])
	}
	slices.SortFunc(objs.Services, func(a, b *corev1.Service) int { return strings.Compare(a.Namespace+"/"+a.Name, b.Namespace+"/"+b.Name) })
	return objs, nil
}
