package conformance

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/svctrace/kubectl-svctrace/harness"
)

// TestIPVS checks --serve --proxy-mode ipvs against real kube-proxy in
// IPVS mode, which the project's kernels lack: the IPVS VM
// (harness/ipvsvm) boots with a NIC on qemu's user network, through which
// it reaches this cluster's API server on the host, and runs
// cmd/kubectl-svctrace's TestVMKubeProxyExactness: kube-proxy v1.37.2
// programs the VM from the fixtures, then --serve from the same objects
// must program the same virtual and real servers, kube-ipvs0 addresses,
// ip sets and iptables rules; kube-proxy v1.34.4 then programs it and the
// trace's IPVS checks must find no drift.
func TestIPVS(t *testing.T) {
	harness.RequireE2E(t)
	// Built before the cluster starts: the cluster's context bounds the
	// test's use of it, not this build.
	dir := t.TempDir()
	vmTest := filepath.Join(dir, "vm.test")
	build := exec.Command("go", "test", "-c", "-tags", "ipvsvm", "-ldflags=-s", "-o", vmTest, "./cmd/kubectl-svctrace")
	build.Dir, build.Env = "..", append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the VM test: %v\n%s", err, out)
	}
	ctx, c := startCluster(t, "iptables")
	deploy(ctx, t, c, fixtures())
	bins, err := harness.DefaultBins(ctx)
	if err != nil {
		t.Fatal(err)
	}
	skew := filepath.Join(filepath.Dir(filepath.Dir(bins.Proxy)), harness.SkewProxyVersion, "kube-proxy")
	files := []string{c.Kubeconfig + ":/svctrace/kubeconfig"}
	for _, p := range []struct{ bin, version string }{{bins.Proxy, harness.KubeVersion}, {skew, harness.SkewProxyVersion}} {
		stripped := filepath.Join(dir, "kube-proxy-"+p.version)
		if out, err := exec.CommandContext(ctx, "strip", "-o", stripped, p.bin).CombinedOutput(); err != nil {
			t.Fatalf("strip %s: %v\n%s", p.bin, err, out)
		}
		files = append(files, stripped+":/svctrace/kube-proxy-"+p.version)
	}
	// The VM runs under its own limit (IPVSVM_TIMEOUT), past the cluster's.
	run := exec.Command("bash", "../harness/ipvsvm/run.sh", "TestVMKubeProxyExactness")
	run.Env = append(os.Environ(), "IPVSVM_NET=1", "IPVSVM_MEM=2048", "IPVSVM_TIMEOUT=600", "IPVSVM_TEST_BIN="+vmTest,
		"IPVSVM_FILES="+strings.Join(files, " "),
		"IPVSVM_ENV=SVCTRACE_VM_NODE="+c.Node.Name+" SVCTRACE_VM_CLUSTER_CIDR="+harness.ClusterCIDR)
	out, err := run.CombinedOutput()
	t.Logf("IPVS VM:\n%s", out)
	if err != nil || !strings.Contains(string(out), "ipvsvm: PASS") {
		t.Fatalf("the IPVS VM did not pass: %v", err)
	}
}
