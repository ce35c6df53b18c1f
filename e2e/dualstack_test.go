package e2e

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/svctrace/kubectl-svctrace/dataplane/iptables"
	"github.com/svctrace/kubectl-svctrace/harness"
)

// TestDualStack runs a RequireDualStack Service over pods on both nodes and
// an IPv6-only Service over the same pods in the shared dual-stack cluster:
// a pod on node-1 reaches every endpoint through each ClusterIP, `--node
// node-1` walks kube-proxy's rules of each family (iptables and ip6tables
// through the agent pod), and a KUBE-SEP chain deleted with ip6tables is
// reported in the IPv6 view. It runs alone (not parallel): it edits
// node-1's rules.
func TestDualStack(t *testing.T) {
	s, c := require(t)
	checkDualStack(t, s, c, s.proxyMode)
}

// TestDualStackNFTables runs the checks of TestDualStack on a cluster of
// its own whose kube-proxy runs in nftables mode, so the trace walks the
// ip6 kube-proxy table too; the shared cluster covers that when the tier
// runs in nftables mode.
func TestDualStackNFTables(t *testing.T) {
	s := usable(t)
	if s.proxyMode == "nftables" {
		t.Skip("TestDualStack runs in nftables mode")
	}
	c := harness.StartT(t, harness.Config{ProxyMode: "nftables", Nodes: 2, DualStack: true})
	checkDualStack(t, s, c, "nftables")
}

// checkDualStack is TestDualStack on cluster c, whose kube-proxy runs in
// mode.
func checkDualStack(t *testing.T, s *suite, c *harness.Cluster, mode string) {
	t.Helper()
	if len(c.Nodes) < 2 || !c.Node.IP6.IsValid() {
		t.Fatalf("the cluster has %d node(s), IPv6 address %v; want 2 dual-stack nodes", len(c.Nodes), c.Node.IP6)
	}
	node1, node2 := c.Nodes[0], c.Nodes[1]
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	ns := newNamespace(ctx, t, c.Client, "e2e-dual")
	e := &env{s: s, c: c, ns: ns}
	selector := map[string]string{"app": "hostnames"}
	require2, single := corev1.IPFamilyPolicyRequireDualStack, corev1.IPFamilyPolicySingleStack
	dual := hostnamesService("hostnames", selector, intstr.FromInt32(servePort))
	dual.Spec.IPFamilyPolicy = &require2
	only6 := hostnamesService("hostnames6", selector, intstr.FromInt32(servePort))
	only6.Spec.IPFamilyPolicy, only6.Spec.IPFamilies = &single, []corev1.IPFamily{corev1.IPv6Protocol}
	// hostnames-2 runs on node-2: connections to it cross the nodes.
	pods := threePods(func(i int, p *podSpec) {
		if i == 2 {
			p.node = node2.Name
		}
	})
	dual = create(ctx, t, c.Client, ns, dual, append(pods, podSpec{name: "client", labels: map[string]string{"app": "client"}})...)
	only6 = create(ctx, t, c.Client, ns, only6)
	if len(dual.Spec.ClusterIPs) != 2 || !inPrefix(dual.Spec.ClusterIPs[0], harness.ServiceCIDR) || !inPrefix(dual.Spec.ClusterIPs[1], harness.ServiceCIDR6) {
		t.Fatalf("dual-stack Service got ClusterIPs %v, want one of %s and one of %s", dual.Spec.ClusterIPs, harness.ServiceCIDR, harness.ServiceCIDR6)
	}
	if len(only6.Spec.ClusterIPs) != 1 || !inPrefix(only6.Spec.ClusterIP, harness.ServiceCIDR6) {
		t.Fatalf("IPv6-only Service got ClusterIPs %v, want one of %s", only6.Spec.ClusterIPs, harness.ServiceCIDR6)
	}
	eps := waitEndpoints(ctx, t, c.Client, ns, "hostnames", 6, 6)
	eps6 := waitEndpoints(ctx, t, c.Client, ns, "hostnames6", 3, 3)
	waitPodsReady(ctx, t, e, 4)
	// Each pod is an endpoint of each family, at an address of its node's
	// pod CIDR of that family.
	for _, ep := range append(eps, eps6...) {
		n := c.NodeNamed(ptrOr(ep.NodeName))
		ip, err := netip.ParseAddr(ep.Addresses[0])
		if n == nil || err != nil || !(n.PodCIDR.Contains(ip) || n.PodCIDR6.Contains(ip)) {
			t.Errorf("endpoint %v on node %q is not in that node's pod CIDRs", ep.Addresses, ptrOr(ep.NodeName))
		}
	}
	// Slices are published before kube-proxy syncs (at most once a
	// second): wait for its rules, lest connections meet half of them.
	waitFamilyRules(ctx, t, mode, node1, ns, "hostnames", eps)
	waitFamilyRules(ctx, t, mode, node1, ns, "hostnames6", eps6)
	backends := []string{"hostnames-0", "hostnames-1", "hostnames-2"}
	agent := []string{"--agent-image", agentImage, "--agent-timeout", "45s"}

	t.Run("connections through each ClusterIP", func(t *testing.T) {
		clientNS, err := c.PodNetNS(ns, "client")
		if err != nil {
			t.Fatal(err)
		}
		hc := inNetNSClient(clientNS, 2*time.Second)
		for _, ip := range append(dual.Spec.ClusterIPs, only6.Spec.ClusterIP) {
			url := "http://" + net.JoinHostPort(ip, "80") + "/"
			poll(ctx, t, 30*time.Second, "pod client reaching "+url, func(ctx context.Context) (bool, error) {
				return get(ctx, hc, url) != "", nil
			})
			// 30 connections miss one of three endpoints with odds of
			// 3*(2/3)^30, about 1 in 70,000.
			seen := map[string]int{}
			for range 30 {
				name := get(ctx, hc, url)
				if !slices.Contains(backends, name) {
					t.Errorf("GET %s from pod client answered %q, want one of %v", url, name, backends)
				}
				seen[name]++
			}
			for _, b := range backends {
				if seen[b] == 0 {
					t.Errorf("30 connections to %s never reached %s (seen %v)", url, b, seen)
				}
			}
		}
	})

	t.Run("node-1's rules of each family", func(t *testing.T) {
		r := s.svctrace(ctx, t, c.Kubeconfig, append([]string{"hostnames", "-n", ns, "--node", node1.Name}, agent...)...)
		noAgentLeft(ctx, t, c)
		checkResult(t, r, expect{exit: 0})
		checkFamilyWalks(t, mode, r, node1.Name, map[corev1.IPFamily]string{
			corev1.IPv4Protocol: dual.Spec.ClusterIPs[0], corev1.IPv6Protocol: dual.Spec.ClusterIPs[1],
		})
	})

	t.Run("IPv6-only Service", func(t *testing.T) {
		r := s.svctrace(ctx, t, c.Kubeconfig, append([]string{"hostnames6", "-n", ns, "--node", node1.Name}, agent...)...)
		noAgentLeft(ctx, t, c)
		checkResult(t, r, expect{exit: 0})
		checkFamilyWalks(t, mode, r, node1.Name, map[corev1.IPFamily]string{corev1.IPv6Protocol: only6.Spec.ClusterIP})
	})

	t.Run("NodePort over IPv6 from outside", func(t *testing.T) {
		np := hostnamesService("hostnames-np", selector, intstr.FromInt32(servePort))
		np.Spec.Type, np.Spec.IPFamilyPolicy = corev1.ServiceTypeNodePort, &require2
		np = create(ctx, t, c.Client, ns, np)
		port := strconv.Itoa(int(np.Spec.Ports[0].NodePort))
		// From the host, which reaches each node's IPv6 InternalIP over its
		// link; the node's kube-proxy DNATs to an endpoint of either node.
		outside := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
		for _, n := range c.Nodes {
			url := "http://" + net.JoinHostPort(n.IP6.String(), port) + "/"
			poll(ctx, t, 30*time.Second, "the host reaching a hostnames pod at "+url, func(ctx context.Context) (bool, error) {
				return slices.Contains(backends, get(ctx, outside, url)), nil
			})
		}
	})

	t.Run("IPv6 endpoint chain deleted with ip6tables", func(t *testing.T) {
		if mode != "iptables" {
			t.Skipf("deletes a KUBE-SEP chain of kube-proxy's iptables mode; kube-proxy runs in %s mode", mode)
		}
		chain := deleteSEPChainOf(ctx, t, node1, "ip6tables", ns, "hostnames")
		r := s.svctrace(ctx, t, c.Kubeconfig, append([]string{"hostnames", "-n", ns, "--node", node1.Name}, agent...)...)
		noAgentLeft(ctx, t, c)
		missing := wantFinding{id: string(iptables.EndpointChainMissing), severity: "error"}
		// Without the chain's jump, the other two jumps' probabilities
		// split the traffic 50/50: that is reported too.
		checkResult(t, r, expect{exit: 3, findings: []wantFinding{missing}, also: []string{string(iptables.ProbabilityMismatch)}})
		var found bool
		for _, f := range r.doc.Findings {
			if f.Severity == "info" {
				continue
			}
			if f.Where == nil || f.Where.Family != string(corev1.IPv6Protocol) {
				t.Errorf("%s %s is not placed in the IPv6 view (where %+v): %s", f.Severity, f.ID, f.Where, f.Message)
			}
			found = found || (f.ID == missing.id && strings.Contains(f.Subject+" "+f.Message+" "+f.Hint, chain))
		}
		if !found {
			t.Errorf("no %s naming the deleted chain %s\n%s", missing.id, chain, r)
		}
	})
}

// waitFamilyRules waits until kube-proxy on node n DNATs to every endpoint
// of eps, looking in the rules of the endpoint's family.
func waitFamilyRules(ctx context.Context, t *testing.T, mode string, n *harness.Node, ns, svc string, eps []discoveryv1.Endpoint) {
	t.Helper()
	d := ruleDump[mode]
	poll(ctx, t, 30*time.Second, "kube-proxy rules on "+n.Name+" for every endpoint of "+ns+"/"+svc, func(ctx context.Context) (bool, error) {
		var dump string
		for _, cmd := range familyDumps(mode) {
			out, err := n.Exec(ctx, cmd[0], cmd[1:]...)
			if err != nil {
				return false, nil
			}
			dump += string(out)
		}
		for _, ep := range eps {
			if !hasDNAT(mode, dump, ns+"/"+svc, d.dnat(ep.Addresses[0])) {
				return false, nil
			}
		}
		return true, nil
	})
}

// hasDNAT reports whether dump DNATs to dnat for the Service named
// ns/svc. The rule must be that Service's (its comment in iptables mode,
// its chain in nftables mode): Services sharing pods share endpoint
// addresses, so the address alone can be another Service's rule while
// this one's is not written yet.
func hasDNAT(mode, dump, service, dnat string) bool {
	if mode != "iptables" {
		// nft -j: the element sits in a rule of the Service's own chain,
		// whose name holds ns/svc/.
		var doc struct {
			Nftables []struct {
				Rule json.RawMessage `json:"rule"`
			} `json:"nftables"`
		}
		if json.Unmarshal([]byte(dump), &doc) != nil {
			return false
		}
		for _, o := range doc.Nftables {
			var r struct {
				Chain string `json:"chain"`
			}
			if o.Rule != nil && json.Unmarshal(o.Rule, &r) == nil &&
				strings.Contains(r.Chain, service+"/") && strings.Contains(string(o.Rule), dnat) {
				return true
			}
		}
		return false
	}
	ofService := regexp.MustCompile(regexp.QuoteMeta(service) + `([ :"]|$)`)
	for _, line := range strings.Split(dump, "\n") {
		if strings.Contains(line, dnat) && ofService.MatchString(line) {
			return true
		}
	}
	return false
}

// familyDumps are the commands that print kube-proxy's rules of both
// families: one listing holds nftables' ip and ip6 tables.
func familyDumps(mode string) [][]string {
	if mode == "iptables" {
		return [][]string{{"iptables-save"}, {"ip6tables-save"}}
	}
	return [][]string{ruleDump[mode].cmd}
}

// checkFamilyWalks checks that the trace has one view of node's rules per
// family of clusterIPs, and that in each a packet to that family's
// ClusterIP is DNATed a third of the time to each ready endpoint of that
// family.
func checkFamilyWalks(t *testing.T, mode string, r result, node string, clusterIPs map[corev1.IPFamily]string) {
	t.Helper()
	want := map[string][]string{}
	for _, ep := range endpointsOf(t, r) {
		if ep.Ready {
			f := familyOf(ep.Address)
			want[f] = append(want[f], net.JoinHostPort(ep.Address, strconv.Itoa(int(ep.Port))))
		}
	}
	var families []string
	for _, dp := range r.doc.Dataplane {
		families = append(families, dp.Family)
		if dp.Node != node || dp.Mode != mode || !strings.HasPrefix(dp.Source, "node/"+node+": ") {
			t.Errorf("%s view of node %q mode %q from %q, want %s %s from the agent's snapshot", dp.Family, dp.Node, dp.Mode, dp.Source, node, mode)
		}
		ip, ok := clusterIPs[corev1.IPFamily(dp.Family)]
		if !ok {
			t.Errorf("a view of family %q; the Service has ClusterIPs %v", dp.Family, clusterIPs)
			continue
		}
		if len(dp.Walks) == 0 || len(want[dp.Family]) != 3 {
			t.Errorf("%s view walks %d packets; %d ready endpoints of that family, want 3\n%s", dp.Family, len(dp.Walks), len(want[dp.Family]), r)
		}
		for _, w := range dp.Walks {
			if w.Packet.Destination != ip {
				t.Errorf("%s view walks a packet to %s, want %s", dp.Family, w.Packet.Destination, ip)
			}
			checkSplit(t, w, want[dp.Family])
		}
	}
	if len(families) != len(clusterIPs) {
		t.Errorf("views of families %v, want one per ClusterIP %v", families, clusterIPs)
	}
}

func familyOf(addr string) string {
	if ip, err := netip.ParseAddr(addr); err == nil && ip.Is6() {
		return string(corev1.IPv6Protocol)
	}
	return string(corev1.IPv4Protocol)
}

func inPrefix(addr, prefix string) bool {
	ip, err := netip.ParseAddr(addr)
	return err == nil && netip.MustParsePrefix(prefix).Contains(ip)
}

func ptrOr(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
