package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/klog/v2"

	"github.com/svctrace/kubectl-svctrace/dataplane"
	kconntrack "github.com/svctrace/kubectl-svctrace/kernel/conntrack"
	"github.com/svctrace/kubectl-svctrace/proxy"
	"github.com/svctrace/kubectl-svctrace/source"
)

// serveOptions are the flags of `kubectl-svctrace --serve`, the mini
// kube-proxy. It shares -f, --node, --cluster-cidr and the kubeconfig
// flags with the trace.
type serveOptions struct {
	serve, replace, once, dryRun, cleanup bool
	profiling, masqueradeAll              bool
	localhostNodePorts                    bool
	mode, ipvsScheduler                   string
	metricsAddr, healthzAddr              string
	syncPeriod, minSyncPeriod             time.Duration
	verbosity                             int
	endpoints                             endpointFlags
	nodePortAddresses, ipvsExclude        []string
	conntrack                             conntrackFlags
}

// addServeFlags registers --serve and its flags; it runs before the
// snapshot flags, which reuse --serve.
func addServeFlags(cmd *cobra.Command) *serveOptions {
	s := &serveOptions{}
	f := cmd.Flags()
	f.BoolVar(&s.serve, "serve", false, "run on a node as a mini kube-proxy: program the dataplane for the Services it serves and keep it right (docs/serve.md)")
	f.StringVar(&s.mode, "proxy-mode", "iptables", "with --serve: the dataplane to program: iptables, nftables or ipvs")
	f.StringVar(&s.ipvsScheduler, "ipvs-scheduler", "rr", "with --serve --proxy-mode ipvs: the IPVS scheduler of every virtual server, as kube-proxy's --ipvs-scheduler (rr, wrr, lc, sh, mh, …)")
	f.BoolVar(&s.replace, "replace-kube-proxy", false, "with --serve: serve every Service without a service-proxy-name label in kube-proxy's own chain names (nftables: its table kube-proxy), on a node without kube-proxy (default: only Services labelled service.kubernetes.io/service-proxy-name=svctrace, in SVCT- chains or the nftables table svctrace)")
	f.BoolVar(&s.masqueradeAll, "masquerade-all", false, "with --serve: SNAT all traffic sent through Service cluster IPs, as kube-proxy's --masquerade-all (default: only traffic from outside --cluster-cidr)")
	f.StringSliceVar(&s.nodePortAddresses, "nodeport-addresses", nil, "with --serve (iptables and nftables mode): accept NodePorts only on the node's interface addresses in these CIDRs, or on its primary addresses with \"primary\", as kube-proxy's --nodeport-addresses (default: every local address in iptables mode, primary in nftables mode)")
	f.BoolVar(&s.localhostNodePorts, "iptables-localhost-nodeports", true, "with --serve --proxy-mode iptables: accept IPv4 NodePorts on 127.0.0.0/8 too, setting net.ipv4.conf.all.route_localnet=1 as kube-proxy does (unless --nodeport-addresses leaves loopback out)")
	f.IntVar(&s.conntrack.maxPerCore, "conntrack-max-per-core", 32768, "with --serve --replace-kube-proxy: raise net.netfilter.nf_conntrack_max to this many entries per CPU (at least --conntrack-min), as kube-proxy does; 0 leaves it")
	f.IntVar(&s.conntrack.min, "conntrack-min", 131072, "with --serve --replace-kube-proxy: the least nf_conntrack_max --conntrack-max-per-core sets")
	f.DurationVar(&s.conntrack.tcpEstablished, "conntrack-tcp-timeout-established", 24*time.Hour, "with --serve --replace-kube-proxy: idle timeout of established TCP connections (nf_conntrack_tcp_timeout_established), as kube-proxy sets it; 0 leaves it")
	f.DurationVar(&s.conntrack.tcpCloseWait, "conntrack-tcp-timeout-close-wait", time.Hour, "with --serve --replace-kube-proxy: timeout of TCP connections in CLOSE_WAIT (nf_conntrack_tcp_timeout_close_wait), as kube-proxy sets it; 0 leaves it")
	f.StringSliceVar(&s.ipvsExclude, "ipvs-exclude-cidrs", nil, "with --serve --proxy-mode ipvs: leave virtual servers and interface addresses in these CIDRs alone when cleaning up, as kube-proxy's --ipvs-exclude-cidrs (another program's)")
	f.BoolVar(&s.once, "once", false, "with --serve: sync once, print what was done and exit (1 on failure)")
	f.BoolVar(&s.dryRun, "dry-run", false, "with --serve: print what a sync would write (the iptables-restore input; the nft transaction in nftables mode; in ipvs mode also the ipset, ipvsadm and ip operations), write nothing and exit")
	f.BoolVar(&s.cleanup, "cleanup", false, "with --serve: remove everything --serve owns in the mode (chains and rules; in nftables mode its tables; in ipvs mode also its virtual servers, ip sets and dummy interface), nothing else, and exit")
	f.StringVar(&s.metricsAddr, "metrics-bind-address", "", "with --serve: address of /metrics, /healthz, /proxyMode and /debug/state (default 127.0.0.1:10249 with --replace-kube-proxy, else 127.0.0.1:10263; \"off\" disables); off loopback: HTTPS, and requests authenticated and authorized by the API server (docs/security.md)")
	f.BoolVar(&s.profiling, "profiling", false, "with --serve: serve Go's profiles under /debug/pprof/ on --metrics-bind-address, as kube-proxy's --profiling (go tool pprof http://ADDRESS/debug/pprof/profile)")
	f.StringVar(&s.healthzAddr, "healthz-bind-address", "", "with --serve: address of /healthz and /livez (default 127.0.0.1:10256 with --replace-kube-proxy, else 127.0.0.1:10264; \"off\" disables); off loopback as --metrics-bind-address")
	s.endpoints.addFlags(f)
	f.DurationVar(&s.syncPeriod, "sync-period", 30*time.Second, "with --serve: how often to read the dataplane back and repair it")
	f.DurationVar(&s.minSyncPeriod, "min-sync-period", time.Second, "with --serve: the shortest time between two syncs after changes")
	f.IntVar(&s.verbosity, "v", 0, "with --serve: log verbosity (klog)")
	return s
}

// ipvsSchedulers are the schedulers of Linux IPVS (ip_vs_NAME modules).
var ipvsSchedulers = []string{"rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "mh", "fo", "ovf", "twos"}

func (s *serveOptions) requested() bool { return s.serve }

// run builds the source and the mode and runs them as asked.
func (s *serveOptions) run(ctx context.Context, cmd *cobra.Command, o *options, out io.Writer) error {
	if err := s.check(o); err != nil {
		return usageError(err)
	}
	s.logTo(cmd.ErrOrStderr())
	if s.replace && !s.dryRun && !s.cleanup {
		s.conntrack.apply(sysctlDir)
	}
	mode, err := s.newMode(ctx, o)
	if err != nil {
		return err
	}
	if s.cleanup {
		rep, err := mode.Cleanup(ctx, s.dryRun)
		s.print(out, rep)
		return err
	}
	src, err := s.newSource(o)
	if err != nil {
		return err
	}
	ns := "svctrace"
	if s.replace {
		ns = "kubeproxy"
	}
	loop := &proxy.Loop{Source: src, Mode: mode, Metrics: proxy.NewMetrics(ns), SyncPeriod: s.syncPeriod, MinSyncPeriod: s.minSyncPeriod,
		Flows: s.staleFlows()}
	if s.once || s.dryRun {
		if err := src.Start(ctx, func(proxy.Kind) {}); err != nil {
			return err
		}
		rep, err := loop.SyncOnce(ctx, true, s.dryRun)
		s.print(out, rep)
		return err
	}
	err = s.endpoints.serve(ctx, o, []endpoint{
		{"--metrics-bind-address", s.addr(s.metricsAddr, "127.0.0.1:10249", "127.0.0.1:10263"), loop.MetricsHandler(mode.state, s.profiling)},
		{"--healthz-bind-address", s.addr(s.healthzAddr, "127.0.0.1:10256", "127.0.0.1:10264"), loop.HealthHandler()},
	})
	if err != nil {
		return err
	}
	return loop.Run(ctx)
}

func (s *serveOptions) check(o *options) error {
	o.node = firstNonEmpty(o.node, os.Getenv("NODE_NAME"))
	switch {
	case s.mode != "iptables" && s.mode != "nftables" && s.mode != "ipvs":
		return fmt.Errorf("--proxy-mode %s is not implemented; use --proxy-mode iptables, nftables or ipvs", s.mode)
	case o.node == "" && !s.cleanup:
		return errors.New("--serve needs --node NAME (or $NODE_NAME): the node it runs on, whose endpoints are local")
	case len(o.filenames) > 0 && s.cleanup:
		return errors.New("--cleanup reads nothing: drop -f")
	case s.mode == "ipvs" && !slices.Contains(ipvsSchedulers, s.ipvsScheduler):
		return fmt.Errorf("--ipvs-scheduler %q is no IPVS scheduler: use one of %s", s.ipvsScheduler, strings.Join(ipvsSchedulers, ", "))
	case s.syncPeriod <= 0 || s.minSyncPeriod < 0:
		return errors.New("--sync-period must be positive and --min-sync-period not negative")
	}
	if err := s.checkNodePortAddresses(); err != nil {
		return err
	}
	if _, err := s.excludeCIDRs(); err != nil {
		return err
	}
	if err := o.limits.check(); err != nil {
		return err
	}
	cidrs, err := parseClusterCIDRs(o.clusterCIDR)
	if err != nil {
		return err
	}
	o.clusterCIDRs = cidrs
	return s.endpoints.check([]endpoint{{"--metrics-bind-address", s.metricsAddr, nil}, {"--healthz-bind-address", s.healthzAddr, nil}})
}

// staleFlows deletes the stale UDP conntrack entries of the Services
// served, after each sync.
func (s *serveOptions) staleFlows() *proxy.StaleFlows {
	name := dataplane.ServeProxyName
	if s.replace {
		name = ""
	}
	return &proxy.StaleFlows{CT: kconntrack.Netlink{}, ProxyName: name}
}

func (s *serveOptions) addr(flagValue, replace, scoped string) string {
	switch {
	case flagValue == "off":
		return ""
	case flagValue != "":
		return flagValue
	case s.replace:
		return replace
	}
	return scoped
}

// logTo turns klog back on (main silences it for the trace).
func (s *serveOptions) logTo(w io.Writer) {
	fs := flag.NewFlagSet("klog", flag.ContinueOnError)
	klog.InitFlags(fs)
	_ = fs.Set("logtostderr", "false")
	_ = fs.Set("v", strconv.Itoa(s.verbosity))
	klog.SetOutput(w)
	// github.com/vishvananda/netlink logs every kernel attribute it does
	// not know (ipset bucket sizes, …) through the standard logger.
	log.SetFlags(0)
	log.SetOutput(klogWriter{})
}

// klogWriter passes the standard logger's lines to klog at verbosity 4.
type klogWriter struct{}

func (klogWriter) Write(p []byte) (int, error) {
	klog.V(4).InfoS(strings.TrimSpace(string(p)), "source", "netlink")
	return len(p), nil
}

func (s *serveOptions) print(out io.Writer, rep proxy.Report) {
	if s.dryRun {
		fmt.Fprint(out, rep.Changes)
		return
	}
	fmt.Fprintln(out, rep.String())
}

func (s *serveOptions) newSource(o *options) (proxy.Source, error) {
	sel := proxy.Selector(s.replace)
	if len(o.filenames) > 0 {
		load := func(paths []string) ([]runtime.Object, error) {
			objs, err := source.LoadPathsWithin(paths, nil, "default", o.limits.fileBytes)
			var tooLarge *source.TooLargeError
			if errors.As(err, &tooLarge) {
				return nil, tooLarge // it names the file and the flag
			}
			return objs, err
		}
		return &proxy.Files{Paths: o.filenames, Node: o.node, Selector: sel, Load: load}, nil
	}
	c, err := o.deps.newClient(o.configFlags)
	if err != nil {
		return nil, err
	}
	return &proxy.API{Client: c, Node: o.node, Selector: sel, ServiceCIDRs: s.mode == "nftables"}, nil
}
