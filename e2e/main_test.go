package e2e

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/svctrace/kubectl-svctrace/harness"
)

// suite is what every scenario shares: the plugin built once, the real
// kubectl, and one cluster started by the first test that needs it.
type suite struct {
	// skip or fail, when set, is why the scenarios cannot run here.
	skip, fail string
	// proxyMode is kube-proxy's: SVCTRACE_E2E_PROXY_MODE, else iptables.
	proxyMode string

	binDir  string // holds kubectl-svctrace; first on the child's PATH
	kubectl string // the real kubectl, found on the original PATH
	path    string // PATH for the child

	once       sync.Once
	cluster    *harness.Cluster
	clusterErr error
	stateDir   string
}

// shared is set once by TestMain before any test runs.
var shared *suite

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(runSuite(m))
}

func runSuite(m *testing.M) int {
	s := &suite{}
	shared = s
	s.skip, s.fail = gate(os.Getenv, os.Geteuid())
	s.proxyMode = cmp.Or(os.Getenv("SVCTRACE_E2E_PROXY_MODE"), "iptables")
	if _, ok := ruleDump[s.proxyMode]; !ok && s.fail == "" {
		s.fail = fmt.Sprintf("SVCTRACE_E2E_PROXY_MODE=%q: want iptables or nftables", s.proxyMode)
	}
	if s.skip != "" || s.fail != "" {
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "svctrace-e2e-bin-")
	if err != nil {
		s.fail = fmt.Sprintf("create plugin dir: %v", err)
		return m.Run()
	}
	defer os.RemoveAll(dir)
	if err := s.preparePlugin(dir); err != nil {
		s.fail = err.Error()
		return m.Run()
	}
	code := m.Run()
	if err := s.stopCluster(code != 0); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

// gate decides whether the scenarios run. CI=true never skips: without
// root the tier fails, so a CI run cannot pass by skipping it.
func gate(getenv func(string) string, euid int) (skip, fail string) {
	// `make test-e2e` sets SVCTRACE_E2E=1, so under CI the tier always
	// runs there; plain `go test ./...` leaves the cluster alone.
	switch {
	case getenv("SVCTRACE_E2E") != "1":
		return "end-to-end tier; set SVCTRACE_E2E=1 (needs root and `make cluster-bins`)", ""
	case euid != 0 && getenv("CI") == "true":
		return "", "CI=true but not root: the end-to-end tier needs root for the local cluster"
	case euid != 0:
		return "end-to-end tier needs root (network namespaces, iptables)", ""
	}
	return "", ""
}

// preparePlugin builds the plugin into dir and finds the real kubectl,
// which must then discover the plugin on the child's PATH.
func (s *suite) preparePlugin(dir string) error {
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		return fmt.Errorf("find kubectl on PATH: %w (install kubectl)", err)
	}
	s.kubectl, s.binDir = kubectl, dir
	s.path = dir + string(os.PathListSeparator) + os.Getenv("PATH")
	plugin := filepath.Join(dir, "kubectl-svctrace")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	build := exec.CommandContext(ctx, "go", "build", "-o", plugin, "./cmd/kubectl-svctrace")
	build.Dir = ".."
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("build ./cmd/kubectl-svctrace: %w\n%s", err, out)
	}
	list := exec.CommandContext(ctx, kubectl, "plugin", "list", "--name-only=false")
	list.Env = append(os.Environ(), "PATH="+s.path)
	out, _ := list.CombinedOutput()
	// kubectl lists plugins in PATH order; ours must come first so no
	// installed copy shadows the build under test.
	if first := firstPlugin(string(out), "kubectl-svctrace"); first != plugin {
		return fmt.Errorf("kubectl plugin list finds %q first, not the build under test %s:\n%s", first, plugin, out)
	}
	return nil
}

// firstPlugin is the first path that kubectl plugin list gives for name.
func firstPlugin(list, name string) string {
	for _, line := range strings.Split(list, "\n") {
		if line = strings.TrimSpace(line); filepath.Base(line) == name {
			return line
		}
	}
	return ""
}

// require skips or fails t when the scenarios cannot run, and otherwise
// returns the shared cluster, starting it on first use.
func require(t *testing.T) (*suite, *harness.Cluster) {
	t.Helper()
	s := usable(t)
	s.once.Do(s.startCluster)
	if s.clusterErr != nil {
		t.Fatalf("start local cluster: %v", s.clusterErr)
	}
	return s, s.cluster
}

// usable skips or fails t when the scenarios cannot run, and otherwise
// returns the suite without starting the shared cluster.
func usable(t *testing.T) *suite {
	t.Helper()
	s := shared
	switch {
	case s.fail != "":
		t.Fatal(s.fail)
	case s.skip != "":
		t.Skip(s.skip)
	}
	return s
}

func (s *suite) startCluster() {
	dir, err := os.MkdirTemp("", "svctrace-e2e-cluster-")
	if err != nil {
		s.clusterErr = err
		return
	}
	s.stateDir = dir
	logf := func(string, ...any) {}
	if testing.Verbose() {
		logf = func(format string, args ...any) { fmt.Fprintf(os.Stderr, "e2e: "+format+"\n", args...) }
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	begin := time.Now()
	// Two dual-stack nodes, as `make cluster-up` makes: scenarios place
	// their pods on node-1 (the default), TestTwoNodes and TestDualStack use
	// node-2 too; Services stay IPv4 unless they ask for IPv6.
	s.cluster, s.clusterErr = harness.Start(ctx, harness.Config{StateDir: dir, ProxyMode: s.proxyMode, Nodes: 2, DualStack: true, Logf: logf})
	logf("cluster up in %s", time.Since(begin).Round(time.Millisecond))
}

// stopCluster stops the cluster if one started; its state and logs stay
// when the tier failed.
func (s *suite) stopCluster(failed bool) error {
	if s.stateDir == "" {
		return nil
	}
	var err error
	if s.cluster != nil {
		if err = s.cluster.Stop(context.Background()); err != nil {
			err = fmt.Errorf("stop local cluster: %w", err)
		}
	}
	if failed || err != nil || s.clusterErr != nil {
		fmt.Fprintf(os.Stderr, "e2e: cluster state and logs kept in %s\n", s.stateDir)
		return err
	}
	return os.RemoveAll(s.stateDir)
}
