package harness

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// Config chooses how a cluster is made. The zero value is a working default.
type Config struct {
	// Bins are the executables; zero means DefaultBins.
	Bins Bins
	// StateDir holds certificates, kubeconfigs, logs and the manifest that
	// Teardown reads. Empty means a new directory under os.TempDir. It is
	// kept after Stop so logs can be read.
	StateDir string
	// ProxyMode is kube-proxy's mode: "iptables" (default) or "nftables".
	ProxyMode string
	// ProxyVersion runs the kube-proxy of that release (cached by
	// hack/build-cluster-bins.sh, e.g. SkewProxyVersion) against the
	// KubeVersion control plane, as a node lagging behind it does. Empty
	// means KubeVersion's, Bins.Proxy.
	ProxyVersion string
	// TransferNet is the /30 of the veth pair between the host (first
	// address: API server) and the node (second address). Zero picks a free
	// 172.31.X.0/30.
	TransferNet netip.Prefix
	// NodeName names the first node; it defaults to "node-1".
	NodeName string
	// Nodes is how many nodes run (at most 8); zero means one. The others
	// are node-2, node-3, …: each its own network namespace with its own
	// kube-proxy, pod CIDR 10.244.<N>.0/24 and link to the host, all linked
	// to each other.
	Nodes int
	// DualStack gives the cluster IPv6 ranges beside the IPv4 ones
	// (ServiceCIDR6, ClusterCIDR6): each node an IPv6 InternalIP and pod
	// CIDR, each pod an IPv6 address too, so Services may be dual-stack or
	// IPv6 only, and kube-proxy programs both families.
	DualStack bool
	// Logf reports progress; nil is quiet.
	Logf func(format string, args ...any)
}

func (cfg Config) logf(format string, args ...any) {
	if cfg.Logf != nil {
		cfg.Logf(format, args...)
	}
}

// Cluster is a running control plane with its nodes. Every field is set
// once Start returns.
type Cluster struct {
	StateDir         string
	Kubeconfig       string // admin (system:masters)
	ViewerKubeconfig string // user "viewer", no rights until granted
	Server           string // https://HostIP:port
	AdminToken       string
	ViewerToken      string
	HostIP           netip.Addr // host end of the node link; the API server binds here
	Admin            *rest.Config
	Client           kubernetes.Interface
	// Node is the first node, node-1: CoreDNS runs there, and pods that
	// name no node are bound to it.
	Node *Node
	// Nodes are all nodes in order, Node first.
	Nodes []*Node
	// DNSAddr is CoreDNS ("NodeIP:53"), reachable from the host and the node;
	// pods reach it as the kube-dns Service, DNSServiceIP.
	DNSAddr string

	cfg      Config
	bins     Bins
	manifest *manifest
	logDir   string
	// ownDir says Start made StateDir; Stop removes it.
	ownDir bool

	// apiSpec and apiCA restart kube-apiserver on its address.
	apiSpec procSpec
	apiCA   []byte

	mu        sync.Mutex
	procs     []*process
	apiserver *process // nil while stopped
	// extraNodes counts the namespaces AddNetNSNode made.
	extraNodes int
	stops      []func() // stopped before processes, newest first
}

// Start brings up etcd, kube-apiserver, kube-controller-manager, a node
// network namespace with kube-proxy and CoreDNS, and the in-process kubelet
// stand-in. On failure it removes everything it made before returning.
// Needs root.
func Start(ctx context.Context, cfg Config) (c *Cluster, err error) {
	if os.Geteuid() != 0 {
		return nil, errors.New("the local cluster needs root (network namespaces, iptables)")
	}
	if swept, err := SweepStale(ctx); err != nil {
		cfg.logf("cluster: %v", err)
	} else if len(swept) > 0 {
		cfg.logf("cluster: removed leftovers of dead clusters in %v", swept)
	}
	c, err = newCluster(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			stopErr := c.Stop(context.WithoutCancel(ctx))
			err = errors.Join(err, stopErr)
			c = nil
		}
	}()
	if err := c.bringUp(ctx); err != nil {
		return c, fmt.Errorf("start cluster (state and logs in %s): %w", c.StateDir, err)
	}
	return c, nil
}

func newCluster(ctx context.Context, cfg Config) (*Cluster, error) {
	if cfg.ProxyMode == "" {
		cfg.ProxyMode = "iptables"
	}
	if cfg.ProxyMode != "iptables" && cfg.ProxyMode != "nftables" {
		return nil, fmt.Errorf("proxy mode %q: want iptables or nftables", cfg.ProxyMode)
	}
	if cfg.NodeName == "" {
		cfg.NodeName = "node-1"
	}
	if cfg.Nodes == 0 {
		cfg.Nodes = 1
	}
	if cfg.Nodes < 1 || cfg.Nodes > maxNodes {
		return nil, fmt.Errorf("%d nodes: want 1 to %d", cfg.Nodes, maxNodes)
	}
	if cfg.Logf == nil {
		cfg.Logf = func(string, ...any) {}
	}
	bins := cfg.Bins
	if bins == (Bins{}) {
		var err error
		if bins, err = DefaultBins(ctx); err != nil {
			return nil, err
		}
	} else if err := bins.check(); err != nil {
		return nil, err
	}
	if cfg.ProxyVersion != "" && cfg.ProxyVersion != KubeVersion {
		var err error
		if bins.Proxy, err = ProxyAt(cfg.ProxyVersion); err != nil {
			return nil, err
		}
	}
	dir, ownDir := cfg.StateDir, cfg.StateDir == ""
	if ownDir {
		var err error
		if dir, err = os.MkdirTemp("", "svctrace-cluster-"); err != nil {
			return nil, fmt.Errorf("create state dir: %w", err)
		}
	}
	c := &Cluster{
		StateDir:    dir,
		Kubeconfig:  filepath.Join(dir, "kubeconfig"),
		AdminToken:  randomSuffix(32),
		ViewerToken: randomSuffix(32),
		cfg:         cfg,
		bins:        bins,
		manifest:    newManifest(dir),
		logDir:      filepath.Join(dir, "logs"),
		ownDir:      ownDir,
	}
	c.ViewerKubeconfig = filepath.Join(dir, "kubeconfig-viewer")
	if err := os.MkdirAll(c.logDir, 0o755); err != nil {
		return nil, fmt.Errorf("create log dir: %w", err)
	}
	owner := procRecord{Name: "owner", PID: os.Getpid(), Start: procStartTime(os.Getpid())}
	if err := c.manifest.update(func() { c.manifest.Owner = owner }); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *Cluster) bringUp(ctx context.Context) error {
	begin := time.Now()
	step := func(what string) { c.cfg.Logf("cluster: %s (%.1fs)", what, time.Since(begin).Seconds()) }
	for i := range c.cfg.Nodes {
		node, err := c.makeNodeNetwork(ctx, i)
		if err != nil {
			return err
		}
		for _, other := range c.Nodes {
			if err := linkNodes(ctx, other, node); err != nil {
				return err
			}
		}
		c.Nodes = append(c.Nodes, node)
		step("node network " + node.NetNS + " ready")
	}
	c.Node = c.Nodes[0]
	pki, err := writePKI(filepath.Join(c.StateDir, "pki"), []string{
		c.HostIP.String(), "127.0.0.1", KubernetesServiceIP, "localhost",
		"kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc." + ClusterDomain,
	})
	if err != nil {
		return err
	}
	if err := writeTokens(filepath.Join(c.StateDir, "tokens.csv"), c.AdminToken, c.ViewerToken); err != nil {
		return err
	}
	etcd, err := c.startEtcd(ctx)
	if err != nil {
		return err
	}
	step("etcd ready")
	if err := c.startAPIServer(ctx, etcd, pki); err != nil {
		return err
	}
	step("kube-apiserver ready at " + c.Server)
	if err := c.writeClients(pki); err != nil {
		return err
	}
	if err := c.startControllerManager(pki); err != nil {
		return err
	}
	for _, n := range c.Nodes {
		if err := c.startNode(ctx, n); err != nil {
			return err
		}
		step("node " + n.Name + " running kube-proxy (" + c.cfg.ProxyMode + ")")
	}
	if err := c.waitSettled(ctx); err != nil {
		return err
	}
	step("cluster ready")
	return nil
}

func (c *Cluster) writeClients(pki *pki) error {
	if err := writeKubeconfig(c.Kubeconfig, c.Server, pki.caPEM, AdminUser, c.AdminToken); err != nil {
		return err
	}
	if err := writeKubeconfig(c.ViewerKubeconfig, c.Server, pki.caPEM, ViewerUser, c.ViewerToken); err != nil {
		return err
	}
	c.Admin = restConfig(c.Server, pki.caPEM, c.AdminToken)
	client, err := kubernetes.NewForConfig(c.Admin)
	if err != nil {
		return fmt.Errorf("make admin client: %w", err)
	}
	c.Client = client
	return nil
}

// start launches a process and keeps it for Stop.
func (c *Cluster) start(spec procSpec) (*process, error) {
	p, err := startProcess(c.manifest, c.logDir, spec)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.procs = append(c.procs, p)
	c.mu.Unlock()
	return p, nil
}

// onStop registers fn to run at Stop before the processes end.
func (c *Cluster) onStop(fn func()) {
	c.mu.Lock()
	c.stops = append(c.stops, fn)
	c.mu.Unlock()
}

// Stop ends the kubelet stand-in, every process, pod and node namespace and
// the host link. It is safe to call more than once.
func (c *Cluster) Stop(ctx context.Context) error {
	c.mu.Lock()
	stops, procs := c.stops, c.procs
	c.stops, c.procs = nil, nil
	c.mu.Unlock()
	for i := len(stops) - 1; i >= 0; i-- {
		stops[i]()
	}
	err := c.manifest.teardown(ctx)
	for _, p := range procs {
		select {
		case <-p.done:
		case <-time.After(5 * time.Second):
			err = errors.Join(err, fmt.Errorf("%s (pid %d) was not reaped", p.rec.Name, p.rec.PID))
		}
	}
	if err == nil && c.ownDir {
		// A state directory Start made goes with the cluster (etcd's data
		// and the logs: tens of MB a run); one the caller gave is the
		// caller's, and a failed stop keeps the logs to look at.
		err = os.RemoveAll(c.StateDir)
	}
	return err
}

// maxNodes bounds Config.Nodes: the nodes are linked pairwise.
const maxNodes = 8

// NodeNamed is the node called name, or nil.
func (c *Cluster) NodeNamed(name string) *Node {
	for _, n := range c.Nodes {
		if n.Name == name {
			return n
		}
	}
	return nil
}

// LogFile is the path of a component's log, e.g. LogFile("kube-proxy").
func (c *Cluster) LogFile(component string) string {
	return filepath.Join(c.logDir, component+".log")
}
