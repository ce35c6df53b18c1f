// Command cluster runs the local test cluster of package harness for people:
//
//	cluster up -state-dir DIR [-proxy-mode iptables|nftables] [-nodes N] [-dual-stack=false]
//	cluster down -state-dir DIR
//	cluster gc
//
// "up" stays in the foreground until SIGINT or SIGTERM and then tears the
// cluster down; hack/cluster-up.sh runs it in the background. "down" stops a
// running "up" and removes whatever its manifest still lists, which also
// cleans up after an "up" that was killed. "gc" removes what test clusters
// left behind when their test process died.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/svctrace/kubectl-svctrace/harness"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "cluster: %v\n", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) == 0 {
		return errors.New("usage: cluster up|down -state-dir DIR [-proxy-mode iptables|nftables] [-nodes N] [-dual-stack=false] | cluster gc")
	}
	if args[0] == "gc" {
		swept, err := harness.SweepStale(context.Background())
		for _, dir := range swept {
			fmt.Printf("removed leftovers of %s\n", dir)
		}
		return err
	}
	fs := flag.NewFlagSet("cluster "+args[0], flag.ContinueOnError)
	stateDir := fs.String("state-dir", "", "directory for certificates, kubeconfigs, logs and the manifest (required)")
	mode := fs.String("proxy-mode", "iptables", "kube-proxy mode: iptables or nftables")
	nodes := fs.Int("nodes", 2, "how many nodes (node-1, node-2, …)")
	dualStack := fs.Bool("dual-stack", true, "IPv6 pod and Service ranges beside the IPv4 ones, as the e2e tier runs")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *stateDir == "" {
		return errors.New("-state-dir is required")
	}
	dir, err := filepath.Abs(*stateDir)
	if err != nil {
		return fmt.Errorf("-state-dir %s: %w", *stateDir, err)
	}
	switch args[0] {
	case "up":
		return up(dir, harness.Config{StateDir: dir, ProxyMode: *mode, Nodes: *nodes, DualStack: *dualStack})
	case "down":
		return down(dir)
	default:
		return fmt.Errorf("unknown command %q: want up or down", args[0])
	}
}

// Files in the state directory shared with hack/cluster-*.sh.
const (
	pidFile   = "cluster.pid"
	readyFile = "ready"
)

func up(dir string, cfg harness.Config) error {
	if pid, ok := runningPID(dir); ok {
		return fmt.Errorf("a cluster already runs from %s (pid %d); run `make cluster-down` first", dir, pid)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create state dir: %w", err)
	}
	_ = os.Remove(filepath.Join(dir, readyFile))
	if err := os.WriteFile(filepath.Join(dir, pidFile), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		return fmt.Errorf("write pid file: %w", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	cfg.Logf = func(format string, args ...any) { fmt.Fprintf(os.Stderr, format+"\n", args...) }
	c, err := harness.Start(ctx, cfg)
	if err != nil {
		return err
	}
	info := readyInfo(c, dir)
	if err := os.WriteFile(filepath.Join(dir, readyFile), []byte(info), 0o644); err != nil {
		err = fmt.Errorf("write ready file: %w", err)
		return errors.Join(err, c.Stop(context.Background()))
	}
	fmt.Print(info)
	<-ctx.Done()
	cfg.Logf("cluster: stopping")
	_ = os.Remove(filepath.Join(dir, readyFile))
	return c.Stop(context.Background())
}

// readyInfo is what the ready file holds and cluster-up prints: the
// kubeconfigs and, per node, its namespace, address and pod CIDR, with a
// command that runs in it. NODE_NETNS and NODE_IP are the first node's.
func readyInfo(c *harness.Cluster, dir string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "KUBECONFIG=%s\nVIEWER_KUBECONFIG=%s\nSERVER=%s\nNODE_NETNS=%s\nNODE_IP=%s\nDNS=%s\nSTATE_DIR=%s\nNODES=%d\n",
		c.Kubeconfig, c.ViewerKubeconfig, c.Server, c.Node.NetNS, c.Node.IP, c.DNSAddr, dir, len(c.Nodes))
	for i, n := range c.Nodes {
		fmt.Fprintf(&b, "NODE_%d_NAME=%s\nNODE_%d_NETNS=%s\nNODE_%d_IP=%s\nNODE_%d_POD_CIDR=%s\n", i+1, n.Name, i+1, n.NetNS, i+1, n.IP, i+1, n.PodCIDR)
		if n.IP6.IsValid() {
			fmt.Fprintf(&b, "NODE_%d_IP6=%s\nNODE_%d_POD_CIDR6=%s\n", i+1, n.IP6, i+1, n.PodCIDR6)
		}
	}
	for _, n := range c.Nodes {
		fmt.Fprintf(&b, "# %s: ip netns exec %s iptables-save    (from the host: curl http://%s:NODEPORT/)\n", n.Name, n.NetNS, n.IP)
		if n.IP6.IsValid() {
			fmt.Fprintf(&b, "# %s: ip netns exec %s ip6tables-save   (from the host: curl http://[%s]:NODEPORT/)\n", n.Name, n.NetNS, n.IP6)
		}
	}
	return b.String()
}

func down(dir string) error {
	if pid, ok := runningPID(dir); ok {
		_ = syscall.Kill(pid, syscall.SIGTERM)
		deadline := time.Now().Add(60 * time.Second)
		for time.Now().Before(deadline) {
			if _, ok := runningPID(dir); !ok {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	_ = os.Remove(filepath.Join(dir, readyFile))
	_ = os.Remove(filepath.Join(dir, pidFile))
	if _, err := os.Stat(filepath.Join(dir, "manifest.json")); os.IsNotExist(err) {
		return nil
	}
	return harness.Teardown(context.Background(), dir)
}

// runningPID returns the PID of the "cluster up" that owns dir, if it runs.
func runningPID(dir string) (int, bool) {
	data, err := os.ReadFile(filepath.Join(dir, pidFile))
	if err != nil {
		return 0, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		return 0, false
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return 0, false
	}
	// A reused PID belongs to some other program.
	argv := strings.Split(string(cmdline), "\x00")
	if len(argv) < 2 || filepath.Base(argv[0]) != "cluster" || argv[1] != "up" {
		return 0, false
	}
	return pid, true
}
