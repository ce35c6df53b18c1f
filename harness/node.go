package harness

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Node is one node: a network namespace standing in for the machine,
// running kube-proxy (and, on the first node, CoreDNS), with pods in
// namespaces of their own.
type Node struct {
	Name    string
	NetNS   string       // svctrace-<name>-<rand>
	IP      netip.Addr   // InternalIP, the node end of its host link
	HostIP  netip.Addr   // the host end of its host link
	PodCIDR netip.Prefix // pods get addresses from here: 10.244.<N>.0/24 on node-N
	// IP6, HostIP6 and PodCIDR6 are the IPv6 twins of IP, HostIP and
	// PodCIDR (fd00:10:244:<N>::/64) on a dual-stack cluster; zero otherwise.
	IP6      netip.Addr
	HostIP6  netip.Addr
	PodCIDR6 netip.Prefix

	kubelet *kubelet
	proxy   *process // kube-proxy; nil while stopped
}

// nodeName is the name of the i-th node (from 0): Config.NodeName for the
// first, node-<i+1> for the rest.
func (cfg Config) nodeName(i int) string {
	if i == 0 {
		return cfg.NodeName
	}
	return fmt.Sprintf("node-%d", i+1)
}

// makeNodeNetwork creates the namespace of the i-th node and the veth pair
// that joins it to the host. The node's default route leads into a veth
// whose peer stays down, so the kernel drops what kube-proxy does not
// translate instead of sending it off the machine (a dummy device would do,
// but the test kernels lack the module). Every node but the first reaches
// the API server, which listens on the host end of the first node's link,
// through its own link to the host.
func (c *Cluster) makeNodeNetwork(ctx context.Context, i int) (*Node, error) {
	transfer := c.cfg.TransferNet
	if i > 0 || !transfer.IsValid() {
		var err error
		if transfer, err = pickTransferNet(ctx); err != nil {
			return nil, err
		}
	}
	transfer = transfer.Masked()
	name := c.cfg.nodeName(i)
	suffix := randomSuffix(6)
	hostIP := transfer.Addr().Next()
	n := &Node{
		Name:    name,
		NetNS:   netnsPrefix + strings.ReplaceAll(name, "-", "") + "-" + suffix,
		IP:      hostIP.Next(),
		HostIP:  hostIP,
		PodCIDR: netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 244, byte(i + 1), 0}), 24),
	}
	if c.cfg.DualStack {
		n.HostIP6, n.IP6, n.PodCIDR6 = twin6(n.HostIP), twin6(n.IP), podCIDR6(i)
	}
	if i == 0 {
		c.HostIP = hostIP
	}
	if err := addNetNS(ctx, c.manifest, n.NetNS); err != nil {
		return nil, err
	}
	link := "svh" + suffix
	if err := c.manifest.addLink(link); err != nil {
		return nil, err
	}
	bits := fmt.Sprintf("/%d", transfer.Bits())
	steps := [][]string{
		{"", "link", "add", link, "type", "veth", "peer", "name", "eth0", "netns", n.NetNS},
		{"", "addr", "add", hostIP.String() + bits, "dev", link},
		{"", "link", "set", link, "up"},
		{n.NetNS, "addr", "add", n.IP.String() + bits, "dev", "eth0"},
		{n.NetNS, "link", "set", "eth0", "up"},
		{n.NetNS, "link", "add", "nowhere0", "type", "veth", "peer", "name", "nowhere1"},
		{n.NetNS, "link", "set", "nowhere0", "up"},
		{n.NetNS, "route", "add", "default", "dev", "nowhere0"},
	}
	if i > 0 {
		steps = append(steps, []string{n.NetNS, "route", "add", c.HostIP.String() + "/32", "via", hostIP.String(), "dev", "eth0"})
	}
	if n.IP6.IsValid() {
		bits6 := linkPrefix6.Bits() + transfer.Bits()
		steps = append(steps,
			nodadAddr("", n.HostIP6, bits6, link),
			nodadAddr(n.NetNS, n.IP6, bits6, "eth0"),
			route6(n.NetNS, "default", "dev", "nowhere0"),
		)
	}
	for _, s := range steps {
		if err := ipIn(ctx, s[0], s[1:]...); err != nil {
			return nil, fmt.Errorf("set up network of node %s: %w", name, err)
		}
	}
	sysctls := []string{"net.ipv4.ip_forward=1"}
	if n.IP6.IsValid() {
		sysctls = append(sysctls, "net.ipv6.conf.all.forwarding=1")
	}
	if _, err := run(ctx, "ip", append([]string{"netns", "exec", n.NetNS, "sysctl", "-qw"}, sysctls...)...); err != nil {
		return nil, err
	}
	return n, nil
}

// linkNodes joins two nodes with a veth pair, as a switch joins machines:
// each end carries its node's InternalIP (so traffic a node masquerades
// onto the link leaves from that address), and each node routes the
// other's InternalIP and pod CIDR over it, of both families on a dual-stack
// cluster. The pair goes with the namespaces.
func linkNodes(ctx context.Context, a, b *Node) error {
	toB, toA := linkTo(b), linkTo(a)
	steps := [][]string{
		{a.NetNS, "link", "add", toB, "type", "veth", "peer", "name", toA, "netns", b.NetNS},
	}
	for _, end := range []struct {
		self, peer *Node
		link       string
	}{{a, b, toB}, {b, a, toA}} {
		ns := end.self.NetNS
		steps = append(steps,
			[]string{ns, "addr", "add", end.self.IP.String() + "/32", "dev", end.link},
			[]string{ns, "link", "set", end.link, "up"},
			[]string{ns, "route", "add", end.peer.IP.String() + "/32", "dev", end.link, "scope", "link"},
			[]string{ns, "route", "add", end.peer.PodCIDR.String(), "via", end.peer.IP.String(), "dev", end.link},
		)
		if end.self.IP6.IsValid() {
			steps = append(steps,
				nodadAddr(ns, end.self.IP6, 128, end.link),
				route6(ns, end.peer.IP6.String()+"/128", "dev", end.link),
				route6(ns, end.peer.PodCIDR6.String(), "via", end.peer.IP6.String(), "dev", end.link),
			)
		}
	}
	for _, s := range steps {
		if err := ipIn(ctx, s[0], s[1:]...); err != nil {
			return fmt.Errorf("link nodes %s and %s: %w", a.Name, b.Name, err)
		}
	}
	return nil
}

// linkTo names the link towards node n: "to" and the name without dashes,
// cut to the kernel's 15 characters.
func linkTo(n *Node) string {
	name := "to" + strings.ReplaceAll(n.Name, "-", "")
	return name[:min(len(name), 15)]
}

// startNode registers the Node object, then starts kube-proxy and the
// kubelet stand-in in the node; the first node's kubelet also binds the
// pods that name no node, and the first node runs CoreDNS.
func (c *Cluster) startNode(ctx context.Context, n *Node) error {
	if err := c.registerNode(ctx, n); err != nil {
		return err
	}
	if err := c.startKubeProxy(n); err != nil {
		return err
	}
	first := n == c.Node
	k, err := startKubelet(ctx, c, n, first)
	if err != nil {
		return err
	}
	n.kubelet = k
	c.onStop(k.stop)
	if err := k.serveKubeletAPI(); err != nil {
		return err
	}
	if !first {
		return nil
	}
	return c.startCoreDNS(ctx)
}

// registerNode creates the Node with the InternalIPs kube-proxy waits for
// (IPv4 first: kube-proxy's primary family) and the pod CIDRs; without a Node the EndpointSlice controller skips its pods.
func (c *Cluster) registerNode(ctx context.Context, n *Node) error {
	obj := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: n.Name, Labels: map[string]string{
			"kubernetes.io/hostname": n.Name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
		}},
		Spec: corev1.NodeSpec{PodCIDR: n.PodCIDR.String(), PodCIDRs: n.podCIDRs()},
	}
	created, err := c.Client.CoreV1().Nodes().Create(ctx, obj, metav1.CreateOptions{})
	if err != nil {
		return fmt.Errorf("create node %s: %w", n.Name, err)
	}
	now := metav1.Now()
	capacity := corev1.ResourceList{
		corev1.ResourceCPU:    resource.MustParse("2"),
		corev1.ResourceMemory: resource.MustParse("4Gi"),
		corev1.ResourcePods:   resource.MustParse("110"),
	}
	var addresses []corev1.NodeAddress
	for _, ip := range n.ips() {
		addresses = append(addresses, corev1.NodeAddress{Type: corev1.NodeInternalIP, Address: ip.String()})
	}
	created.Status = corev1.NodeStatus{
		Capacity:    capacity,
		Allocatable: capacity,
		Addresses:   append(addresses, corev1.NodeAddress{Type: corev1.NodeHostName, Address: n.Name}),
		Conditions: []corev1.NodeCondition{{
			Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady",
			Message: "svctrace harness node", LastHeartbeatTime: now, LastTransitionTime: now,
		}},
		DaemonEndpoints: corev1.NodeDaemonEndpoints{KubeletEndpoint: corev1.DaemonEndpoint{Port: KubeletPort}},
		NodeInfo: corev1.NodeSystemInfo{
			KubeletVersion: KubeVersion, OperatingSystem: "linux", Architecture: "amd64",
			KernelVersion: kernelVersion(), OSImage: "svctrace harness node",
			ContainerRuntimeVersion: "svctrace://" + KubeVersion,
		},
	}
	if _, err := c.Client.CoreV1().Nodes().UpdateStatus(ctx, created, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("set status of node %s: %w", n.Name, err)
	}
	return nil
}

func kernelVersion() string {
	data, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(data))
}

// startKubeProxy runs kube-proxy in the node namespace. Conntrack limits are
// left alone: outside the initial namespace the kernel refuses to change them.
// The first node's configuration and log keep the names of the one-node
// cluster (kube-proxy.yaml, kube-proxy.log); the others carry the node name.
func (c *Cluster) startKubeProxy(n *Node) error {
	cfg := fmt.Sprintf(`apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection:
  kubeconfig: %s
hostnameOverride: %s
mode: %s
clusterCIDR: %s
metricsBindAddress: 127.0.0.1:10249
healthzBindAddress: 127.0.0.1:10256
conntrack:
  maxPerCore: 0
  min: 0
  tcpEstablishedTimeout: 0s
  tcpCloseWaitTimeout: 0s
`, c.Kubeconfig, n.Name, c.cfg.ProxyMode, c.cfg.clusterCIDRs())
	name := c.proxyName(n)
	path := filepath.Join(c.StateDir, name+".yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		return fmt.Errorf("write kube-proxy config: %w", err)
	}
	p, err := c.start(procSpec{name: name, netns: n.NetNS, path: c.bins.Proxy,
		args: []string{"--config", path, "--v", "2"}})
	c.mu.Lock()
	n.proxy = p
	c.mu.Unlock()
	return err
}

// proxyName names the kube-proxy of node n in the state directory.
func (c *Cluster) proxyName(n *Node) string {
	if n == c.Node {
		return "kube-proxy"
	}
	return "kube-proxy-" + n.Name
}

// DialContext dials addr from inside the node, as a process on the node would.
func (n *Node) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	return dialIn(ctx, n.NetNS, network, addr)
}

// HTTPClient sends requests from inside the node.
func (n *Node) HTTPClient(timeout time.Duration) *http.Client {
	return &http.Client{
		Timeout:   timeout,
		Transport: &http.Transport{DialContext: n.DialContext, DisableKeepAlives: true},
	}
}

// Exec runs a command inside the node namespace and returns its combined
// output, e.g. n.Exec(ctx, "iptables-save").
func (n *Node) Exec(ctx context.Context, name string, args ...string) ([]byte, error) {
	return run(ctx, "ip", append([]string{"netns", "exec", n.NetNS, name}, args...)...)
}

// DialInNetNS dials addr from inside the named network namespace, e.g. a
// pod's (Cluster.PodNetNS); the connection stays in that namespace.
func DialInNetNS(ctx context.Context, netns, network, addr string) (net.Conn, error) {
	return dialIn(ctx, netns, network, addr)
}
