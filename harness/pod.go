package harness

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

// Pod annotations the kubelet stand-in understands.
const (
	// AnnotationListen overrides where the pod server listens, e.g.
	// "8080/tcp,53/udp"; by default it listens on every declared container
	// port, or on 9376/tcp (serve_hostname's port) when none is declared.
	AnnotationListen = "svctrace.dev/listen"
	// AnnotationUnhealthy "true" starts the pod failing HTTP requests (503),
	// so readiness probes fail; see Cluster.SetPodHealthy.
	AnnotationUnhealthy = "svctrace.dev/unhealthy"
	// AnnotationTerminateDelay keeps a deleted pod terminating for this
	// long (a Go duration, at most the grace period) before it is removed.
	AnnotationTerminateDelay = "svctrace.dev/terminate-delay"
)

// podRuntime is what the node runs for one pod: a network namespace holding
// the pod IP and a pod server, or nothing for host-network pods.
type podRuntime struct {
	key      string
	uid      types.UID
	ip       netip.Addr
	ip6      netip.Addr // zero on a single-stack cluster
	netns    string     // empty for host-network pods
	proc     *process
	failFile string
	// command is set for plugin pods, whose process runs to completion.
	command bool
	started time.Time
	cancel  context.CancelFunc
	done    chan struct{} // closed when the probe loop ends

	mu          sync.Mutex
	terminating bool
	stopped     bool
	// ephemeral holds the processes of ephemeral containers by name; nil
	// for one that could not start.
	ephemeral map[string]*process
}

// startPod gives pod its network and process and reports it Running.
func (k *kubelet) startPod(ctx context.Context, pod *corev1.Pod) (*podRuntime, error) {
	rt := &podRuntime{
		key:     pod.Namespace + "/" + pod.Name,
		uid:     pod.UID,
		started: time.Now(),
		done:    make(chan struct{}),
	}
	if pod.Spec.HostNetwork {
		rt.ip, rt.ip6 = k.node.IP, k.node.IP6
		if k.isPluginPod(pod) {
			if err := k.startCommand(pod, rt); err != nil {
				return nil, fmt.Errorf("start pod %s: %w", rt.key, err)
			}
		}
		return rt, nil
	}
	ip, err := k.ipam.alloc()
	if err != nil {
		return nil, err
	}
	rt.ip, rt.ip6 = ip, k.node.podIP6(ip)
	if err := k.startPodProcess(ctx, pod, rt); err != nil {
		_ = rt.stop(context.WithoutCancel(ctx), k)
		return nil, fmt.Errorf("start pod %s: %w", rt.key, err)
	}
	return rt, nil
}

func (k *kubelet) startPodProcess(ctx context.Context, pod *corev1.Pod, rt *podRuntime) error {
	octet := strconv.Itoa(int(rt.ip.As4()[3]))
	rt.netns = k.node.NetNS + "-p" + octet
	if err := addNetNS(ctx, k.c.manifest, rt.netns); err != nil {
		return err
	}
	if err := plumbPod(ctx, k.node, rt.netns, "vp"+octet, rt.ip, rt.ip6); err != nil {
		return err
	}
	if err := writeResolvConf(rt.netns, pod); err != nil {
		return err
	}
	if k.isPluginPod(pod) {
		return k.startCommand(pod, rt)
	}
	dir := filepath.Join(k.c.StateDir, "pods", string(pod.UID))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create pod dir: %w", err)
	}
	rt.failFile = filepath.Join(dir, "unhealthy")
	if pod.Annotations[AnnotationUnhealthy] == "true" {
		if err := os.WriteFile(rt.failFile, nil, 0o644); err != nil {
			return err
		}
	}
	proc, err := startProcess(k.c.manifest, k.c.logDir, procSpec{
		name:  "pod-" + pod.Namespace + "-" + pod.Name,
		netns: rt.netns,
		path:  k.c.bins.PodServer,
		args:  []string{"-name", pod.Name, "-listen", listenSpec(pod), "-fail-file", rt.failFile},
	})
	if err != nil {
		return err
	}
	rt.proc = proc
	return nil
}

// plumbPod joins a pod namespace to the node with a routed veth pair, as the
// ptp CNI plugin does: the pod has ip/32 and a default route to the node's
// gateway address; the node routes ip to the pod's link. Traffic between
// pods always crosses the node, so kube-proxy's rules see all of it. On a
// dual-stack cluster ip6 is plumbed the same way (gateway: the first address
// of the node's IPv6 pod CIDR); zero skips it.
func plumbPod(ctx context.Context, node *Node, podNS, link string, ip, ip6 netip.Addr) error {
	gw := node.PodCIDR.Masked().Addr().Next().String()
	steps := [][]string{
		{node.NetNS, "link", "add", link, "type", "veth", "peer", "name", "eth0", "netns", podNS},
		{node.NetNS, "addr", "add", gw + "/32", "dev", link},
		{node.NetNS, "link", "set", link, "up"},
		{node.NetNS, "route", "add", ip.String() + "/32", "dev", link, "scope", "link"},
		{podNS, "addr", "add", ip.String() + "/32", "dev", "eth0"},
		{podNS, "link", "set", "eth0", "up"},
		{podNS, "route", "add", gw, "dev", "eth0", "scope", "link"},
		{podNS, "route", "add", "default", "via", gw, "dev", "eth0"},
	}
	if ip6.IsValid() {
		gw6 := node.PodCIDR6.Masked().Addr().Next()
		steps = append(steps,
			nodadAddr(node.NetNS, gw6, 128, link),
			route6(node.NetNS, ip6.String()+"/128", "dev", link),
			nodadAddr(podNS, ip6, 128, "eth0"),
			route6(podNS, gw6.String()+"/128", "dev", "eth0"),
			route6(podNS, "default", "via", gw6.String(), "dev", "eth0"),
		)
	}
	for _, s := range steps {
		if err := ipIn(ctx, s[0], s[1:]...); err != nil {
			return fmt.Errorf("plumb pod network: %w", err)
		}
	}
	return nil
}

// listenSpec is the pod server's -listen value for pod.
func listenSpec(pod *corev1.Pod) string {
	if v := pod.Annotations[AnnotationListen]; v != "" {
		return v
	}
	seen := map[string]bool{}
	var specs []string
	for _, c := range pod.Spec.Containers {
		for _, p := range c.Ports {
			proto := strings.ToLower(string(p.Protocol))
			if proto == "" {
				proto = "tcp"
			}
			s := fmt.Sprintf("%d/%s", p.ContainerPort, proto)
			if (proto == "tcp" || proto == "udp") && !seen[s] {
				seen[s] = true
				specs = append(specs, s)
			}
		}
	}
	if len(specs) == 0 {
		return "9376/tcp"
	}
	return strings.Join(specs, ",")
}

func terminateDelay(pod *corev1.Pod) time.Duration {
	d, err := time.ParseDuration(pod.Annotations[AnnotationTerminateDelay])
	if err != nil || d < 0 {
		return 0
	}
	if g := pod.DeletionGracePeriodSeconds; g != nil && d > time.Duration(*g)*time.Second {
		d = time.Duration(*g) * time.Second
	}
	return d
}

// network is the network namespace the pod's processes run in: its own,
// or node's for a host-network pod.
func (rt *podRuntime) network(node *Node) string {
	if rt.netns == "" {
		return node.NetNS
	}
	return rt.netns
}

// beginTermination reports whether this call started the termination.
func (rt *podRuntime) beginTermination() bool {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if rt.terminating {
		return false
	}
	rt.terminating = true
	return true
}

// stop ends the probe loop and the pod server and removes the namespace.
func (rt *podRuntime) stop(ctx context.Context, k *kubelet) error {
	rt.mu.Lock()
	if rt.stopped {
		rt.mu.Unlock()
		return nil
	}
	rt.stopped = true
	rt.mu.Unlock()
	if rt.cancel != nil {
		rt.cancel()
		<-rt.done
	}
	var errs []error
	errs = append(errs, rt.stopEphemeral(k))
	if rt.proc != nil {
		errs = append(errs, rt.proc.stop(k.c.manifest, 3*time.Second))
	}
	if rt.netns != "" {
		if err := deleteNetNS(ctx, rt.netns); err != nil {
			errs = append(errs, err)
		} else {
			errs = append(errs, k.c.manifest.forgetNetNS(rt.netns))
		}
		k.ipam.release(rt.ip)
	}
	return errors.Join(errs...)
}

// ipam hands out pod addresses from the node's pod CIDR, skipping the
// network address and the gateway.
type ipam struct {
	mu     sync.Mutex
	prefix netip.Prefix
	used   map[netip.Addr]bool
}

func newIPAM(p netip.Prefix) *ipam {
	p = p.Masked()
	return &ipam{prefix: p, used: map[netip.Addr]bool{p.Addr(): true, p.Addr().Next(): true}}
}

func (a *ipam) alloc() (netip.Addr, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for ip := a.prefix.Addr(); a.prefix.Contains(ip); ip = ip.Next() {
		if !a.used[ip] && a.prefix.Contains(ip.Next()) { // skip broadcast
			a.used[ip] = true
			return ip, nil
		}
	}
	return netip.Addr{}, fmt.Errorf("pod CIDR %s is full", a.prefix)
}

func (a *ipam) release(ip netip.Addr) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.used, ip)
}
