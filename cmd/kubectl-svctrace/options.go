package main

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/kubernetes"

	"github.com/svctrace/kubectl-svctrace/dataplane"
	"github.com/svctrace/kubectl-svctrace/demo"
	"github.com/svctrace/kubectl-svctrace/dns"
	"github.com/svctrace/kubectl-svctrace/render"
	"github.com/svctrace/kubectl-svctrace/source"
	"github.com/svctrace/kubectl-svctrace/trace"
	"github.com/svctrace/kubectl-svctrace/tui"
)

// options holds one invocation's settings: flags in, Complete fills the
// rest, Validate checks without I/O, Run writes only to the streams.
type options struct {
	streams     genericiooptions.IOStreams
	configFlags *genericclioptions.ConfigFlags
	deps        deps

	output    string
	filenames []string
	demo      bool
	demoMode  string
	// demoModeSet records that --demo-proxy-mode was given.
	demoModeSet bool
	tui         bool

	dumps       source.DumpPaths
	node        string
	port        string
	clusterCIDR string
	// clusterCIDRs is clusterCIDR parsed by Validate, by family.
	clusterCIDRs clusterCIDRs

	dnsCheck bool
	probe    bool
	// probed is the probe's result, once it ran (probe.go).
	probed        *probeResult
	dnsServer     string
	clusterDomain string
	from          string

	limits limits

	namespace string
	name      string
	// client talks to a live cluster; cluster is what the trace reads:
	// the API, informer caches in the live terminal UI, or files.
	client  kubernetes.Interface
	cluster source.Cluster
	// nodeView holds the node flags and parsed dumps, read once by Run so
	// that a refresh does not read them again.
	nodeView *trace.DataplaneInput
	// agent reads a node through an agent pod (agent.go).
	agent agentOptions
	// allNodes compares every node (allnodes.go).
	allNodes allNodesOptions
}

func newOptions(streams genericiooptions.IOStreams, d deps) *options {
	return &options{
		streams:     streams,
		configFlags: genericclioptions.NewConfigFlags(true),
		deps:        d,
	}
}

func (o *options) addFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVarP(&o.output, "output", "o", "", "output format: wide, json or yaml (default: a readable tree)")
	f.StringSliceVarP(&o.filenames, "filename", "f", nil, "trace offline from files or directories (bundles) of YAML/JSON objects, optionally gzip-compressed (- for stdin), e.g. the output of kubectl get svc,endpointslices,pods,nodes,events -A -o yaml")
	f.BoolVar(&o.demo, "demo", false, "trace the embedded demo cluster (Service hostnames) through node-1's real kube-proxy rules")
	f.StringVar(&o.demoMode, "demo-proxy-mode", "iptables", "which of node-1's kube-proxy modes the demo walks: iptables or nftables")
	f.BoolVarP(&o.tui, "tui", "i", false, "browse the trace and step a packet through the rules in a terminal UI")
	f.BoolVar(&o.dnsCheck, "dns", false, "query the cluster DNS Service (kube-system/kube-dns) for the Service's names")
	f.BoolVar(&o.probe, "probe", false, "check from inside the cluster: DNS through the client's own resolver, and connections to the Service, each endpoint and the node port, run in the --from pod (an ephemeral container), on --node, or in a short-lived pod (image --agent-image)")
	f.StringVar(&o.dnsServer, "dns-server", "", "query this DNS server (ADDR or ADDR:PORT) for the Service's names")
	f.StringVar(&o.clusterDomain, "cluster-domain", "cluster.local", "the cluster's DNS domain")
	f.StringVar(&o.dumps.IPTablesSave, "iptables-save", "", "a node's iptables-save output (FILE or - for stdin) to walk and compare with what kube-proxy should write")
	f.StringVar(&o.dumps.IP6TablesSave, "ip6tables-save", "", "a dual-stack node's ip6tables-save output (FILE or -), walked beside --iptables-save for the Service's IPv6 cluster IP")
	f.StringVar(&o.dumps.NFT, "nft", "", "a node's nft -j list ruleset output (FILE or -) for kube-proxy's nftables mode")
	f.StringVar(&o.dumps.IPVS, "ipvs", "", "a node's ipvsadm -Ln or ipvsadm-save -n output (FILE or -) for kube-proxy's IPVS mode")
	f.StringVar(&o.dumps.IPVSAddrs, "ipvs-addrs", "", "with --ipvs: the node's ip addr show output (FILE or -, all interfaces), to check the Service's addresses are bound to kube-ipvs0 or otherwise local")
	f.StringVar(&o.dumps.Conntrack, "conntrack", "", "a node's conntrack -L output (FILE or -) to find flows stuck on gone endpoints")
	f.StringVar(&o.node, "node", "", "the node whose dataplane the dumps come from (default: the first node of the trace)")
	f.StringVar(&o.port, "port", "", "walk only this Service port (its name, number or node port)")
	f.StringVar(&o.clusterCIDR, "cluster-cidr", "", "kube-proxy's --cluster-cidr, one of each family on a dual-stack node (default: read from the iptables dump)")
	f.StringVar(&o.from, "from", "", "where the client is: pod/NAME (DNS search path, packet source, NetworkPolicy verdicts), node, external, or an IP (a running pod's IP traces from that pod)")
	o.agent.addFlags(f)
	o.allNodes.addFlags(f)
	o.limits.addFlags(cmd)
	o.configFlags.AddFlags(cmd.PersistentFlags())
}

// Complete resolves the Service name, namespace and the client to read with.
func (o *options) Complete(ctx context.Context, args []string) error {
	if err := o.checkFlags(); err != nil {
		return usageError(err)
	}
	if len(args) == 1 {
		name, err := parseServiceArg(args[0])
		if err != nil {
			return usageError(err)
		}
		o.name = name
	}
	nsFlag := ""
	if o.configFlags.Namespace != nil {
		nsFlag = *o.configFlags.Namespace
	}
	switch {
	case o.demo:
		if o.name == "" {
			o.name = demo.Service
		}
		o.namespace = firstNonEmpty(nsFlag, demo.Namespace)
		objs, err := demo.Objects()
		if err != nil {
			return fmt.Errorf("load demo: %w", err)
		}
		o.cluster = source.Offline(objs)
	case len(o.filenames) > 0:
		o.namespace = firstNonEmpty(nsFlag, "default")
		if err := o.limits.checkFiles(o.filenames); err != nil {
			return err
		}
		want := source.Want{Namespace: o.namespace, Service: o.name, FromPod: o.fromPod(), MaxBytes: o.limits.fileBytes}
		store, err := source.Load(ctx, o.filenames, interruptible{ctx, o.streams.In}, o.namespace, want)
		var tooLarge *source.TooLargeError
		if errors.As(err, &tooLarge) {
			return tooLarge // it names the input and the flag
		}
		if err != nil {
			return err
		}
		o.cluster = store
	default:
		ns, _, err := o.configFlags.ToRawKubeConfigLoader().Namespace()
		if err != nil {
			return fmt.Errorf("read kubeconfig: %w; pass --kubeconfig or set KUBECONFIG, or trace offline with -f FILE or --demo", err)
		}
		o.namespace = ns
		if o.name == "" {
			return nil // Validate reports the missing argument without I/O
		}
		if o.client, err = o.deps.newClient(o.configFlags); err != nil {
			return err
		}
		o.cluster = source.API(o.client)
	}
	return nil
}

// Validate checks the options without I/O.
func (o *options) Validate() error {
	if o.name == "" {
		return errors.New("name the Service to trace: kubectl svctrace SERVICE (or --demo)")
	}
	if errs := validation.IsDNS1035Label(o.name); len(errs) > 0 {
		return fmt.Errorf("%q is not a valid Service name: %s", o.name, strings.Join(errs, "; "))
	}
	if errs := validation.IsDNS1123Label(o.namespace); len(errs) > 0 {
		return fmt.Errorf("%q is not a valid namespace: %s", o.namespace, strings.Join(errs, "; "))
	}
	return o.checkFlags()
}

// checkFlags checks the flags alone. Complete runs it before reading any
// input, so a bad combination is a usage error even when stdin is empty.
func (o *options) checkFlags() error {
	switch o.output {
	case "", "wide", "json", "yaml":
	default:
		return fmt.Errorf("unknown --output %q: use wide, json or yaml", o.output)
	}
	if o.from != "" && o.fromPod() == "" && !isEntry(o.from) {
		return fmt.Errorf("unknown --from %q: use pod/NAME, node, external or an IP address", o.from)
	}
	stdinUsers := 0
	for _, p := range []string{o.dumps.IPTablesSave, o.dumps.IP6TablesSave, o.dumps.NFT, o.dumps.IPVS, o.dumps.IPVSAddrs, o.dumps.Conntrack} {
		if p == "-" {
			stdinUsers++
		}
	}
	if slices.Contains(o.filenames, "-") {
		stdinUsers++
	}
	if stdinUsers > 1 {
		return errors.New("only one of -f, --iptables-save, --ip6tables-save, --nft, --ipvs, --ipvs-addrs and --conntrack can read stdin (-)")
	}
	if stdinUsers > 0 && o.tui {
		return errors.New("-i needs the terminal on stdin: write the dump to a file and pass its name instead of -")
	}
	if t := o.configFlags.Timeout; t != nil && *t != "" && *t != "0" {
		if _, err := strconv.Atoi(*t); err != nil {
			if _, err := time.ParseDuration(*t); err != nil {
				return fmt.Errorf("bad --request-timeout %q: use a duration such as 10s or 1m", *t)
			}
		}
	}
	if err := o.limits.check(); err != nil {
		return err
	}
	cidrs, err := parseClusterCIDRs(o.clusterCIDR)
	if err != nil {
		return err
	}
	o.clusterCIDRs = cidrs
	if o.demoModeSet && !o.demo {
		return errors.New("--demo-proxy-mode only applies with --demo")
	}
	if o.demoMode != "iptables" && o.demoMode != "nftables" {
		return fmt.Errorf("unknown --demo-proxy-mode %q: use iptables or nftables", o.demoMode)
	}
	if o.demo && len(o.filenames) > 0 {
		return errors.New("--demo and --filename both choose the input: use one")
	}
	if o.dumps.IPVSAddrs != "" && o.dumps.IPVS == "" {
		return errors.New("--ipvs-addrs checks the addresses of the IPVS virtual servers: give the node's --ipvs dump too")
	}
	if o.demo && o.dnsCheck {
		// The demo's kube-dns address is made up; asking it would send
		// queries to whatever answers at that address on this network.
		return errors.New("--dns asks the cluster's DNS Service, and the demo cluster runs nowhere: use --dns-server ADDR with a server you run")
	}
	if err := o.checkAllNodes(); err != nil {
		return err
	}
	if o.probe && !o.live() {
		return errProbeOffline
	}
	if o.agent.save != "" && !o.live() {
		return errors.New("--save writes what a live trace read: drop -f/--demo")
	}
	if d := strings.TrimSuffix(o.clusterDomain, "."); len(validation.IsDNS1123Subdomain(d)) > 0 {
		return fmt.Errorf("bad --cluster-domain %q: use a DNS domain such as cluster.local", o.clusterDomain)
	}
	return nil
}

// Run traces the Service and writes the result (or opens the terminal UI);
// error findings map to exit code 3.
func (o *options) Run(ctx context.Context) error {
	if o.allNodes.enabled {
		return o.runAllNodes(ctx)
	}
	o.resolveFromIP(ctx)
	var err error
	if o.nodeView, err = o.dataplane(ctx); err != nil {
		return err
	}
	t, err := o.trace(ctx)
	if err != nil {
		return err
	}
	if err := o.saveBundle(ctx); err != nil {
		return err
	}
	if o.tui {
		err := o.runTUI(ctx, t)
		if err == nil && trace.HasErrors(t.Findings) {
			return &exitError{code: ExitFindings}
		}
		var nt tui.NotTerminalError
		if !errors.As(err, &nt) {
			return err
		}
		fmt.Fprintln(o.streams.ErrOut, "svctrace: "+nt.Notice())
	}
	if err := o.render(t); err != nil {
		return err
	}
	if trace.HasErrors(t.Findings) {
		return &exitError{code: ExitFindings}
	}
	return nil
}

// trace reads the Service's neighbourhood, checks DNS when asked, and
// builds the trace with the node view.
func (o *options) trace(ctx context.Context) (*trace.Trace, error) {
	in, err := source.Fetcher{Client: o.cluster, FromPod: o.fromPod(), Node: o.node, Offline: !o.live()}.Fetch(ctx, o.namespace, o.name)
	if err != nil {
		return nil, err
	}
	in.ClusterDomain = o.clusterDomain
	if err := checkPort(in.Service, o.port); err != nil {
		return nil, usageError(err)
	}
	var outside []trace.Finding
	switch {
	case o.probe && o.client != nil:
		if err := o.runProbe(ctx, in); err != nil {
			return nil, err
		}
	case o.dnsServer != "" || (o.dnsCheck && o.inCluster()):
		server, err := dns.ServerAddr(o.dnsServer, in.KubeDNS)
		if err != nil {
			return nil, err
		}
		probeDNS(ctx, &dns.Client{Server: server}, server, in)
	case o.dnsCheck && in.Service != nil:
		outside = append(outside, dnsFromOutside(in))
	}
	// Each trace gets its own copy: the dumps were read once, at the start
	// of Run, and a reload in the terminal UI traces again.
	dp := *o.nodeView
	// In the terminal UI the reader picks the packet, so walk them all.
	dp.EveryEntry = o.tui && o.deps.isTerminal(o.streams.Out) && o.deps.isTerminal(o.streams.In)
	in.Dataplane = &dp
	t := trace.Build(*in)
	o.agent.addFindings(t)
	if len(outside) > 0 {
		t.Findings = append(t.Findings, outside...)
		trace.SortFindings(t.Findings)
	}
	return t, nil
}

// runTUI opens the terminal UI; in live mode it follows the Service's
// changes through informers, and traces again from their caches.
func (o *options) runTUI(ctx context.Context, t *trace.Trace) error {
	cfg := tui.Config{Trace: t, Reload: o.trace, In: o.streams.In, Out: o.streams.Out, NoColor: o.deps.getenv("NO_COLOR") != ""}
	if o.live() && t.Found {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		cfg.Updates, o.cluster = source.Watch(ctx, o.client, o.namespace, o.name, t.Service.Selector, 300*time.Millisecond)
	}
	return tui.Run(ctx, cfg)
}

// inCluster reports whether the plugin runs in a pod, where the cluster
// DNS Service routes.
func (o *options) inCluster() bool { return o.deps.getenv("KUBERNETES_SERVICE_HOST") != "" }

// live reports whether the trace reads a real cluster.
func (o *options) live() bool { return !o.demo && len(o.filenames) == 0 }

func (o *options) render(t *trace.Trace) error {
	switch o.output {
	case "json":
		return render.JSON(o.streams.Out, t)
	case "yaml":
		return render.YAML(o.streams.Out, t)
	}
	color := o.deps.isTerminal(o.streams.Out) && o.deps.getenv("NO_COLOR") == ""
	return render.Text(o.streams.Out, t, render.TextOptions{Color: color, Wide: o.output == "wide"})
}

// parseServiceArg accepts NAME, svc/NAME, service/NAME and services/NAME.
func parseServiceArg(arg string) (string, error) {
	kind, name, found := strings.Cut(arg, "/")
	if !found {
		return arg, nil
	}
	switch strings.ToLower(kind) {
	case "svc", "service", "services":
		if name == "" {
			return "", fmt.Errorf("%q names no Service: use svc/NAME", arg)
		}
		return name, nil
	}
	return "", fmt.Errorf("%q is not a Service: svctrace traces Services (svc/NAME)", arg)
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// fromPod returns "namespace/name" for --from pod/NAME (or pod/NS/NAME).
func (o *options) fromPod() string {
	rest, ok := strings.CutPrefix(o.from, "pod/")
	if !ok || rest == "" {
		return ""
	}
	if strings.Contains(rest, "/") {
		return rest
	}
	return o.namespace + "/" + rest
}

func isEntry(from string) bool {
	if from == "node" || from == "external" {
		return true
	}
	_, err := netip.ParseAddr(from)
	return err == nil
}

// dataplane turns the node flags and dumps into the trace's node view.
func (o *options) dataplane(ctx context.Context) (*trace.DataplaneInput, error) {
	d := &trace.DataplaneInput{Node: o.node, Port: o.port}
	d.ClusterCIDR = o.clusterCIDRs.first()
	switch {
	case o.from == "node" || o.from == "external":
		d.From, _ = dataplane.ParseEntry(o.from) // checked by Validate
	case o.fromPod() != "":
		d.From = dataplane.EntryPod // the source address is the pod's IP
	case o.from != "":
		d.FromIP = netip.MustParseAddr(o.from) // checked by Validate
	}
	// The bound goes on a copy: o.dumps compared with its zero value
	// says whether any dump was named.
	dumps := o.dumps
	dumps.MaxBytes = o.limits.dumpBytes
	if err := source.LoadDumps(dumps, interruptible{ctx, o.streams.In}, d); err != nil {
		return nil, err
	}
	if err := o.readNode(ctx, d); err != nil {
		return nil, err
	}
	if o.demo && !o.dumps.Any() {
		if err := demo.Dataplane(d, o.demoMode == "nftables"); err != nil {
			return nil, fmt.Errorf("load demo dumps: %w", err)
		}
	}
	return d, nil
}

// checkPort makes sure --port names a port of the Service.
func checkPort(svc *corev1.Service, port string) error {
	if port == "" || svc == nil {
		return nil
	}
	var have []string
	for _, p := range svc.Spec.Ports {
		// A node port names its Service port too: it is what a client
		// from outside connects to.
		if p.Name == port || strconv.Itoa(int(p.Port)) == port || (p.NodePort != 0 && strconv.Itoa(int(p.NodePort)) == port) {
			return nil
		}
		have = append(have, strings.TrimPrefix(fmt.Sprintf("%s %d/%s", p.Name, p.Port, p.Protocol), " "))
	}
	return fmt.Errorf("--port %s: service %s/%s has no such port; its ports: %s", port, svc.Namespace, svc.Name, strings.Join(have, ", "))
}
