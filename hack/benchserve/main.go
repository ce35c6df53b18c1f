// Command benchserve measures kubectl-svctrace --serve beside the real
// kube-proxy, side by side in one run (docs/performance.md): the local
// cluster (harness) runs kube-proxy on node-1 in its own network
// namespace, a second namespace runs `--serve --replace-kube-proxy` for
// the same node name, and both are fed by the same API server holding
// N Services with E endpoints each (EndpointSlices created directly,
// selectorless Services, as kube-proxy reads any slice). Each proxy is
// read from its own /metrics: the first full sync, partial syncs after
// one endpoint change, and --serve's periodic full resync; peak RSS comes
// from /proc. Nothing is asserted: it prints the numbers.
//
//	hack/bench-serve.sh            (takes the e2e lock, needs root)
//	go run ./hack/benchserve -services 2000 -endpoints 10
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/svctrace/kubectl-svctrace/harness"
)

type options struct {
	services, endpoints, changes  int
	mode, cpuProfile, heapProfile string
	syncPeriod                    time.Duration
}

func main() {
	var o options
	flag.IntVar(&o.services, "services", 2000, "Services to create")
	flag.IntVar(&o.endpoints, "endpoints", 10, "endpoints per Service")
	flag.IntVar(&o.changes, "changes", 5, "single-endpoint changes to time partial syncs by")
	flag.StringVar(&o.mode, "mode", "iptables", "proxy mode of both: iptables or nftables")
	flag.DurationVar(&o.syncPeriod, "serve-sync-period", 30*time.Second, "--serve's --sync-period (its full resyncs)")
	flag.StringVar(&o.cpuProfile, "cpuprofile", "", "write --serve's CPU profile over the partial syncs to this file (go tool pprof FILE)")
	flag.StringVar(&o.heapProfile, "heapprofile", "", "write --serve's heap profile at the end of the run to this file")
	flag.Parse()
	ctx, stop := signalContext()
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "benchserve:", err)
		os.Exit(1)
	}
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, time.Now().Format("15:04:05")+" "+format+"\n", args...)
}

func run(ctx context.Context, o options) (err error) {
	c, err := harness.Start(ctx, harness.Config{ProxyMode: o.mode, Logf: logf})
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, c.Stop(context.WithoutCancel(ctx))) }()
	if c.PluginBinary() == "" {
		return errors.New("no kubectl-svctrace built (needs a go toolchain)")
	}
	load0 := loadAvg()

	// kube-proxy stops while the objects are made, so that its first sync
	// after the restart is one full sync of all of them.
	if err := c.StopKubeProxy(); err != nil {
		return err
	}
	begin := time.Now()
	if err := createObjects(ctx, c, o); err != nil {
		return err
	}
	logf("created %d Services and EndpointSlices with %d endpoints each in %.0fs", o.services, o.endpoints, time.Since(begin).Seconds())

	kp := &proxyUnderTest{name: "kube-proxy " + harness.KubeVersion, metrics: "http://127.0.0.1:10249/metrics", client: c.Node.HTTPClient(10 * time.Second)}
	if err := c.StartKubeProxy(ctx); err != nil {
		return err
	}
	kp.pid = c.KubeProxyPID()
	if err := kp.waitFullSync(ctx, 10*time.Minute); err != nil {
		return err
	}

	node, err := c.AddNetNSNode(ctx)
	if err != nil {
		return err
	}
	sv := &proxyUnderTest{name: "--serve --replace-kube-proxy", metrics: "http://127.0.0.1:10249/metrics", client: node.HTTPClient(10 * time.Second)}
	cmd := exec.CommandContext(ctx, "ip", "netns", "exec", node.NetNS, c.PluginBinary(), "--serve", "--replace-kube-proxy",
		"--proxy-mode", o.mode, "--node", c.Node.Name, "--kubeconfig", c.Kubeconfig, "--cluster-cidr", harness.ClusterCIDR,
		"--sync-period", o.syncPeriod.String(), "--profiling")
	logFile, err := os.CreateTemp("", "benchserve-serve-*.log")
	if err != nil {
		return err
	}
	defer func() {
		logFile.Close()
		if err == nil {
			os.Remove(logFile.Name())
		}
	}()
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start --serve: %w", err)
	}
	defer func() { _ = cmd.Process.Signal(syscall.SIGTERM); _ = cmd.Wait() }()
	sv.pid = cmd.Process.Pid
	logf("--serve running in %s (pid %d, log %s)", node.NetNS, sv.pid, logFile.Name())
	if err := sv.waitFullSync(ctx, 10*time.Minute); err != nil {
		return err
	}
	if err := checkSameRules(ctx, c, node, o.mode); err != nil {
		return err
	}

	// Each change is synced by one proxy at a time, the other stopped
	// (SIGSTOP) until it is done, as on two machines: on a shared 2-core
	// machine their syncs would otherwise slow each other down.
	profiled := profileCPU(ctx, sv.client, o)
	for i := range o.changes {
		for _, p := range []*proxyUnderTest{kp, sv} {
			if err := p.markPartial(ctx); err != nil {
				return err
			}
		}
		if err := syscall.Kill(sv.pid, syscall.SIGSTOP); err != nil {
			return err
		}
		err := changeOneEndpoint(ctx, c, o, i)
		if err == nil {
			err = kp.waitPartialSync(ctx, 2*time.Minute)
		}
		if contErr := syscall.Kill(sv.pid, syscall.SIGCONT); err == nil {
			err = contErr
		}
		if err == nil {
			err = sv.waitPartialSync(ctx, 2*time.Minute)
		}
		if err != nil {
			return err
		}
		time.Sleep(2 * time.Second)
	}
	if err := <-profiled; err != nil {
		return err
	}
	if err := sv.waitFullSync(ctx, o.syncPeriod+2*time.Minute); err != nil {
		return err
	}
	for _, p := range []*proxyUnderTest{kp, sv} {
		p.peakRSS, p.rss = memory(p.pid)
	}
	if o.heapProfile != "" {
		if err := fetchTo(ctx, sv.client, "http://127.0.0.1:10249/debug/pprof/heap", o.heapProfile); err != nil {
			return err
		}
	}
	report(o, kp, sv, load0)
	return nil
}

// checkSameRules wants both nodes to hold as many rules of kube-proxy's
// layout (KUBE- chains in iptables mode, table kube-proxy in nftables
// mode): both programmed every Service.
func checkSameRules(ctx context.Context, c *harness.Cluster, serve *harness.Node, mode string) error {
	count := func(n *harness.Node) (int, error) {
		if mode == "nftables" {
			out, err := n.Exec(ctx, "nft", "list", "table", "ip", "kube-proxy")
			return strings.Count(string(out), "\n"), err
		}
		out, err := n.Exec(ctx, "iptables-save")
		return strings.Count(string(out), "\n-A KUBE-"), err
	}
	a, err := count(c.Node)
	if err != nil {
		return err
	}
	b, err := count(serve)
	if err != nil {
		return err
	}
	logf("rules of kube-proxy's layout: kube-proxy's node %d lines, --serve's node %d", a, b)
	if a != b && mode == "iptables" {
		return fmt.Errorf("kube-proxy's node holds %d lines of its rules, --serve's %d: they did not program the same", a, b)
	}
	if a != b {
		// nft lists a set's elements several to a line, as they fit.
		logf("the listings differ in length; nft packs set elements into lines as they fit")
	}
	return nil
}

func report(o options, kp, sv *proxyUnderTest, load0 string) {
	fmt.Printf("%d Services x %d endpoints, %s mode; %d CPUs (%s), Go %s; load average %s at start, %s at end\n\n",
		o.services, o.endpoints, o.mode, runtime.NumCPU(), cpuModel(), runtime.Version(), load0, loadAvg())
	fmt.Println("| | first full sync s | partial sync s (mean of", o.changes, "; min–max) | periodic full resync s | peak RSS MB | RSS at end MB |")
	fmt.Println("|---|---:|---:|---:|---:|---:|")
	for _, p := range []*proxyUnderTest{kp, sv} {
		resync := "—"
		if len(p.full) > 1 {
			resync = fmt.Sprintf("%.3f", p.full[1])
		}
		lo, hi, mean := stats(p.partial)
		fmt.Printf("| %s | %.3f | %.4f (%.4f–%.4f) | %s | %.0f | %.0f |\n", p.name, p.full[0], mean, lo, hi, resync, p.peakRSS, p.rss)
	}
	_, _, kpMean := stats(kp.partial)
	_, _, svMean := stats(sv.partial)
	fmt.Printf("\nfull sync: --serve %.1fx faster (goal 3x); partial sync: %.1fx faster (goal 10x)\n", kp.full[0]/sv.full[0], kpMean/svMean)
}

func stats(xs []float64) (lo, hi, mean float64) {
	if len(xs) == 0 {
		return 0, 0, 0
	}
	lo, hi = xs[0], xs[0]
	for _, x := range xs {
		lo, hi, mean = min(lo, x), max(hi, x), mean+x
	}
	return lo, hi, mean / float64(len(xs))
}

// proxyUnderTest is one proxy, read from its own /metrics.
type proxyUnderTest struct {
	name, metrics string
	client        *http.Client
	pid           int
	// full and partial are the durations of each sync observed, in order.
	full, partial []float64
	last          map[string]float64
	peakRSS, rss  float64
}

const (
	fullMetric    = "kubeproxy_sync_full_proxy_rules_duration_seconds"
	partialMetric = "kubeproxy_sync_partial_proxy_rules_duration_seconds"
)

// waitFullSync waits for the proxy's next full sync and records its
// duration.
func (p *proxyUnderTest) waitFullSync(ctx context.Context, limit time.Duration) error {
	return p.wait(ctx, fullMetric, limit, &p.full)
}

// markPartial notes the partial syncs done so far; waitPartialSync then
// waits for the next one, so that only syncs after a change count.
func (p *proxyUnderTest) markPartial(ctx context.Context) error {
	m, err := scrape(ctx, p.client, p.metrics)
	if err != nil {
		return fmt.Errorf("%s: %w", p.name, err)
	}
	p.note(m, partialMetric)
	return nil
}

func (p *proxyUnderTest) waitPartialSync(ctx context.Context, limit time.Duration) error {
	return p.wait(ctx, partialMetric, limit, &p.partial)
}

func (p *proxyUnderTest) note(m map[string]float64, metric string) {
	if p.last == nil {
		p.last = map[string]float64{}
	}
	p.last[metric+"_count"], p.last[metric+"_sum"] = m[metric+"_count"], m[metric+"_sum"]
}

// wait polls the histogram metric until its count grows past what was
// noted last, and records the new syncs' mean duration (one sync, as a
// rule).
func (p *proxyUnderTest) wait(ctx context.Context, metric string, limit time.Duration, into *[]float64) error {
	deadline := time.Now().Add(limit)
	for {
		m, err := scrape(ctx, p.client, p.metrics)
		if err == nil {
			count, sum := m[metric+"_count"], m[metric+"_sum"]
			prevCount, prevSum := p.last[metric+"_count"], p.last[metric+"_sum"]
			if count > prevCount {
				d := (sum - prevSum) / (count - prevCount)
				*into = append(*into, d)
				p.note(m, metric)
				logf("%s: %s #%d: %.4fs (%d new)", p.name, strings.TrimPrefix(metric, "kubeproxy_"), int(count), d, int(count-prevCount))
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: no new %s within %s (last error: %v)", p.name, metric, limit, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// profileCPU fetches --serve's CPU profile (its --profiling endpoint)
// over the time the changes take, about changeSeconds each, into
// o.cpuProfile; the channel says when it is written. Without -cpuprofile
// it does nothing. Stopped by SIGSTOP, --serve takes no samples, so the
// profile holds its partial syncs and what they wait for.
func profileCPU(ctx context.Context, client *http.Client, o options) <-chan error {
	const changeSeconds = 6
	done := make(chan error, 1)
	if o.cpuProfile == "" {
		done <- nil
		return done
	}
	seconds := o.changes * changeSeconds
	go func() {
		c := *client
		c.Timeout = time.Duration(seconds+30) * time.Second
		done <- fetchTo(ctx, &c, fmt.Sprintf("http://127.0.0.1:10249/debug/pprof/profile?seconds=%d", seconds), o.cpuProfile)
	}()
	logf("profiling --serve for %ds into %s", seconds, o.cpuProfile)
	return done
}

func fetchTo(ctx context.Context, client *http.Client, url, file string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("fetch %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("fetch %s: %s", url, resp.Status)
	}
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", file, err)
	}
	return f.Close()
}
