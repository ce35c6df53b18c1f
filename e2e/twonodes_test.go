package e2e

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/svctrace/kubectl-svctrace/harness"
	"github.com/svctrace/kubectl-svctrace/snapshot"
	"github.com/svctrace/kubectl-svctrace/trace"
)

// TestTwoNodes runs the hostnames pods on node-2 and a client pod on
// node-1: traffic crosses the nodes for real, `--node node-2` walks
// node-2's own rules, `--all-nodes` tells the nodes apart, and
// externalTrafficPolicy Local drops what enters node-1 from outside. It runs
// alone (not parallel): it edits node-2's rules.
func TestTwoNodes(t *testing.T) {
	s, c := require(t)
	if len(c.Nodes) < 2 {
		t.Fatalf("the shared cluster has %d node(s), want 2", len(c.Nodes))
	}
	node1, node2 := c.Nodes[0], c.Nodes[1]
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	ns := newNamespace(ctx, t, c.Client, "e2e-nodes")
	e := &env{s: s, c: c, ns: ns}
	onNode2 := threePods(func(_ int, p *podSpec) { p.node = node2.Name })
	create(ctx, t, c.Client, ns, hostnamesService("hostnames", map[string]string{"app": "hostnames"}, intstr.FromInt32(servePort)), onNode2...)
	local := hostnamesService("hostnames-local", map[string]string{"app": "hostnames"}, intstr.FromInt32(servePort))
	local.Spec.Type = corev1.ServiceTypeNodePort
	local.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyLocal
	local = create(ctx, t, c.Client, ns, local, podSpec{name: "client", labels: map[string]string{"app": "client"}})
	nodePort := strconv.Itoa(int(local.Spec.Ports[0].NodePort))
	eps := waitEndpoints(ctx, t, c.Client, ns, "hostnames", 3, 3)
	waitEndpoints(ctx, t, c.Client, ns, "hostnames-local", 3, 3)
	waitPodsReady(ctx, t, e, 4)
	for _, ep := range eps {
		if ip, err := netip.ParseAddr(ep.Addresses[0]); err != nil || !node2.PodCIDR.Contains(ip) || ep.NodeName == nil || *ep.NodeName != node2.Name {
			t.Fatalf("endpoint %v is not a pod of %s (pod CIDR %s)", ep.Addresses, node2.Name, node2.PodCIDR)
		}
	}
	backends := []string{"hostnames-0", "hostnames-1", "hostnames-2"}
	var dnats []string
	for _, ep := range eps {
		dnats = append(dnats, ruleDump[s.proxyMode].dnat(ep.Addresses[0]))
	}
	for _, n := range c.Nodes {
		waitRules(ctx, t, e, n, dnats...)
	}
	agent := []string{"--agent-image", agentImage, "--agent-timeout", "45s"}

	t.Run("cross-node traffic", func(t *testing.T) {
		clientNS, err := c.PodNetNS(ns, "client")
		if err != nil {
			t.Fatal(err)
		}
		hc := inNetNSClient(clientNS, 2*time.Second)
		svc, err := c.Client.CoreV1().Services(ns).Get(ctx, "hostnames", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, url := range []string{
			"http://" + svc.Spec.ClusterIP + ":80/",
			"http://" + net.JoinHostPort(node1.IP.String(), nodePort) + "/",
			"http://" + net.JoinHostPort(node2.IP.String(), nodePort) + "/",
		} {
			poll(ctx, t, 30*time.Second, "pod client on "+node1.Name+" reaching "+url, func(ctx context.Context) (bool, error) {
				return get(ctx, hc, url) != "", nil
			})
			for range 5 {
				if name := get(ctx, hc, url); !slices.Contains(backends, name) {
					t.Errorf("GET %s from pod client on %s answered %q, want one of the pods on %s %v", url, node1.Name, name, node2.Name, backends)
				}
			}
		}
	})

	t.Run("node-2's live rules", func(t *testing.T) {
		r := s.svctrace(ctx, t, c.Kubeconfig, append([]string{"hostnames", "-n", ns, "--node", node2.Name}, agent...)...)
		noAgentLeft(ctx, t, c)
		checkResult(t, r, expect{exit: 0})
		checkRulesOf(t, e, r, node2.Name)
		for _, dp := range r.doc.Dataplane {
			if !strings.HasPrefix(dp.Source, "node/"+node2.Name+": ") {
				t.Errorf("dataplane source %q, want the agent's snapshot of %s", dp.Source, node2.Name)
			}
		}
	})

	t.Run("kubectl exec", func(t *testing.T) {
		ips := podIPs(ctx, t, e)
		// On node-2, in the pod's own network namespace: its address.
		out, code := s.kubectlExec(ctx, t, "", "exec", "-n", ns, "hostnames-0", "--", "ip", "-4", "-o", "addr", "show", "dev", "eth0")
		if code != 0 || !strings.Contains(out, " "+ips["hostnames-0"]+"/32 ") {
			t.Errorf("kubectl exec hostnames-0 (on %s) -- ip addr: exit %d, want the pod's address %s:\n%s", node2.Name, code, ips["hostnames-0"], out)
		}
		// The resolver the pod's DNS policy gives it.
		out, code = s.kubectlExec(ctx, t, "", "exec", "-n", ns, "client", "--", "cat", "/etc/resolv.conf")
		if code != 0 || !strings.Contains(out, "nameserver "+harness.DNSServiceIP) || !strings.Contains(out, "search "+ns+".svc."+harness.ClusterDomain) {
			t.Errorf("kubectl exec client -- cat /etc/resolv.conf: exit %d, want the pod's resolv.conf:\n%s", code, out)
		}
		out, code = s.kubectlExec(ctx, t, "hello from stdin\n", "exec", "-i", "-n", ns, "client", "--", "cat")
		if code != 0 || out != "hello from stdin\n" {
			t.Errorf("kubectl exec -i client -- cat: exit %d, output %q; want stdin echoed", code, out)
		}
		if out, code = s.kubectlExec(ctx, t, "", "exec", "-n", ns, "client", "--", "sh", "-c", "exit 7"); code != 7 {
			t.Errorf("kubectl exec client -- sh -c 'exit 7': exit %d, want 7:\n%s", code, out)
		}
		if out, code = s.kubectlExec(ctx, t, "", "exec", "-n", ns, "client", "-c", "nosuch", "--", "true"); code == 0 || !strings.Contains(out, "nosuch") {
			t.Errorf("kubectl exec -c nosuch: exit %d, want a failure naming the container:\n%s", code, out)
		}
	})

	t.Run("kubectl debug node/node-2", func(t *testing.T) {
		snap := debugNodeSnapshot(ctx, t, s, ns, node2.Name)
		var addrs string
		for _, sec := range snap.Sections {
			if sec.Name == snapshot.Addresses {
				addrs = sec.Output
			}
		}
		// node-2's own address, read by the process in node-2's network.
		has := func(ip netip.Addr) bool {
			return regexp.MustCompile(`\b` + regexp.QuoteMeta(ip.String()) + `\b`).MatchString(addrs)
		}
		if snap.Node != node2.Name || !has(node2.IP) || has(node1.IP) {
			t.Errorf("snapshot of node %q with addresses\n%s\nwant %s's (%s)", snap.Node, addrs, node2.Name, node2.IP)
		}
	})

	t.Run("kubectl attach and debug -i", func(t *testing.T) {
		// The pod server runs on; attach shows its output from the start.
		actx, acancel := context.WithTimeout(ctx, 5*time.Second)
		defer acancel()
		if out, _ := s.kubectlExec(actx, t, "", "attach", "-n", ns, "client"); !strings.Contains(out, "podserver client listening") {
			t.Errorf("kubectl attach client shows no output of the pod server:\n%s", out)
		}
		out, code := s.kubectlExec(ctx, t, "", "debug", "node/"+node2.Name, "-n", ns, "-i", "--profile=sysadmin", "--image="+agentImage, "--", "kubectl-svctrace", "--serve", "--snapshot")
		if pod := regexp.MustCompile(`pod (node-debugger-[a-z0-9-]+)`).FindStringSubmatch(out); pod != nil {
			t.Cleanup(func() { s.kubectlOut(context.Background(), t, "delete", "pod", "-n", ns, pod[1], "--wait=false") })
		}
		snap, err := snapshot.Decode(strings.NewReader(out))
		if code != 0 || err != nil || snap.Node != node2.Name {
			t.Errorf("kubectl debug -i node/%s: exit %d, snapshot %v; want node-2's snapshot on stdout:\n%s", node2.Name, code, err, out)
		}
	})

	t.Run("kubectl port-forward", func(t *testing.T) {
		pctx, pcancel := context.WithTimeout(ctx, 30*time.Second)
		defer pcancel()
		cmd := exec.CommandContext(pctx, s.kubectl, "port-forward", "-n", ns, "pod/hostnames-1", ":"+strconv.Itoa(servePort))
		cmd.Env = childEnv(os.Environ(), "KUBECONFIG="+c.Kubeconfig)
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatalf("kubectl port-forward: %v", err)
		}
		defer func() { pcancel(); _ = cmd.Wait() }()
		// "Forwarding from 127.0.0.1:PORT -> 9376"
		line, err := bufio.NewReader(stdout).ReadString('\n')
		local := regexp.MustCompile(`from (127\.0\.0\.1:\d+) ->`).FindStringSubmatch(line)
		if err != nil || local == nil {
			t.Fatalf("kubectl port-forward printed %q (%v), want where it listens", line, err)
		}
		hc := &http.Client{Timeout: 5 * time.Second}
		if name := get(pctx, hc, "http://"+local[1]+"/"); name != "hostnames-1" {
			t.Errorf("GET through kubectl port-forward to pod hostnames-1 on %s answered %q", node2.Name, name)
		}
	})

	t.Run("externalTrafficPolicy Local", func(t *testing.T) {
		for _, n := range c.Nodes {
			waitRules(ctx, t, e, n, nodePort)
		}
		// From the host: outside every node and pod.
		outside := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
		via2 := "http://" + net.JoinHostPort(node2.IP.String(), nodePort) + "/"
		poll(ctx, t, 30*time.Second, "the host reaching "+via2, func(ctx context.Context) (bool, error) {
			return get(ctx, outside, via2) != "", nil
		})
		if name := get(ctx, outside, via2); !slices.Contains(backends, name) {
			t.Errorf("GET %s from outside answered %q, want one of %v", via2, name, backends)
		}
		via1 := net.JoinHostPort(node1.IP.String(), nodePort)
		conn, err := (&net.Dialer{Timeout: 2 * time.Second}).DialContext(ctx, "tcp", via1)
		var ne net.Error
		if err == nil {
			conn.Close()
			t.Errorf("connected from outside to %s though %s hosts no endpoint of the Local policy", via1, node1.Name)
		} else if !errors.As(err, &ne) || !ne.Timeout() {
			t.Errorf("connecting from outside to %s: %v, want a timeout (dropped)", via1, err)
		}

		// The trace of each node says the same: node-1 drops, names the
		// Local policy and exits 3; node-2 DNATs to its pods.
		for _, tc := range []struct {
			node    *harness.Node
			verdict string
			exit    int
		}{{node1, "DROP", 3}, {node2, "DNAT", 0}} {
			r := s.svctrace(ctx, t, c.Kubeconfig, append([]string{"hostnames-local", "-n", ns, "--node", tc.node.Name, "--from", "external"}, agent...)...)
			noAgentLeft(ctx, t, c)
			if r.doc == nil || r.exit != tc.exit {
				t.Fatalf("%s: exit %d, want %d\n%s", tc.node.Name, r.exit, tc.exit, r)
			}
			var walked int
			for _, dp := range r.doc.Dataplane {
				for _, w := range dp.Walks {
					walked++
					for _, o := range w.Outcomes {
						if o.Verdict != tc.verdict || w.Packet.Destination != tc.node.IP.String() {
							t.Errorf("%s: packet from outside to %s:%d ends %s %s, want %s", tc.node.Name, w.Packet.Destination, w.Packet.Port, o.Verdict, o.Target, tc.verdict)
						}
					}
				}
			}
			if walked == 0 {
				t.Errorf("%s: no packet from outside walked\n%s", tc.node.Name, r)
			}
			noLocal := wantFinding{id: trace.NoLocalEndpoints, severity: "warning", subject: "service/hostnames-local",
				contains: []string{"entering node " + node1.Name + " finds no ready local endpoint", "only " + node2.Name + " has one"}}
			if got := slices.ContainsFunc(r.doc.Findings, noLocal.matches); got != (tc.node == node1) {
				t.Errorf("%s: %s naming %s alone: %v, want %v\n%s", tc.node.Name, trace.NoLocalEndpoints, node1.Name, got, tc.node == node1, r)
			}
		}
	})

	t.Run("asks the --serve pod on node-2", func(t *testing.T) {
		// deploy/serve.yaml's pod, scoped: it programs only Services
		// labelled for svctrace, of which the files it follows have none.
		files := t.TempDir()
		if err := os.WriteFile(filepath.Join(files, "node.yaml"), []byte("apiVersion: v1\nkind: Node\nmetadata: {name: "+node2.Name+"}\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		serve := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: "svctrace-serve", Namespace: ns, Labels: map[string]string{"app.kubernetes.io/name": "kubectl-svctrace", "app.kubernetes.io/component": "serve"}},
			Spec: corev1.PodSpec{NodeName: node2.Name, HostNetwork: true, Containers: []corev1.Container{{Name: "serve", Image: agentImage,
				Args: []string{"--serve", "--node", node2.Name, "--proxy-mode", "iptables", "-f", files}}}},
		}
		if _, err := c.Client.CoreV1().Pods(ns).Create(ctx, serve, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			bg := context.Background()
			_ = c.Client.CoreV1().Pods(ns).Delete(bg, serve.Name, metav1.DeleteOptions{})
			poll(bg, t, 60*time.Second, "the --serve pod gone", func(ctx context.Context) (bool, error) {
				_, err := c.Client.CoreV1().Pods(ns).Get(ctx, serve.Name, metav1.GetOptions{})
				return apierrors.IsNotFound(err), nil
			})
			if out, err := node2.Exec(context.Background(), s.binDir+"/kubectl-svctrace", "--serve", "--cleanup", "--node", node2.Name); err != nil {
				t.Errorf("--cleanup on %s: %v\n%s", node2.Name, err, out)
			}
		})
		poll(ctx, t, 60*time.Second, "the --serve pod running and ready", func(ctx context.Context) (bool, error) {
			p, err := c.Client.CoreV1().Pods(ns).Get(ctx, serve.Name, metav1.GetOptions{})
			return err == nil && p.Status.Phase == corev1.PodRunning && slices.ContainsFunc(p.Status.Conditions, func(c corev1.PodCondition) bool {
				return c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue
			}), nil
		})
		r := s.svctrace(ctx, t, c.Kubeconfig, append([]string{"hostnames", "-n", ns, "--node", node2.Name}, agent...)...)
		noAgentLeft(ctx, t, c)
		checkResult(t, r, expect{exit: 0})
		checkRulesOf(t, e, r, node2.Name)
		asked := wantFinding{id: "NodeReadThroughServe", severity: "info", subject: "node/" + node2.Name,
			contains: []string{"the --serve pod " + ns + "/svctrace-serve", "no agent pod was started"}}
		if !slices.ContainsFunc(r.doc.Findings, asked.matches) {
			t.Errorf("no finding says %s was read by asking its --serve pod\n%s", node2.Name, r)
		}
	})

	t.Run("deleted endpoint chain on node-2", func(t *testing.T) {
		if s.proxyMode != "iptables" {
			t.Skipf("deletes a KUBE-SEP chain of kube-proxy's iptables mode; kube-proxy runs in %s mode", s.proxyMode)
		}
		chain := deleteSEPChain(ctx, t, node2, ns, "hostnames")
		doc, out := allNodes(ctx, t, s, c, "hostnames", ns)
		if len(doc.Nodes) != 2 || doc.Nodes[0].Node != node2.Name || !doc.Nodes[0].Disagrees || doc.Nodes[0].Drift == 0 {
			t.Fatalf("--all-nodes does not put %s first as disagreeing with drift, of 2 nodes:\n%s", node2.Name, out)
		}
		if !slices.ContainsFunc(doc.Nodes[0].Findings, func(f trace.Finding) bool {
			return f.Severity == trace.SeverityError && strings.Contains(f.Subject+" "+f.Message+" "+f.Hint, chain)
		}) {
			t.Errorf("--all-nodes names no error for the chain %s deleted on %s:\n%s", chain, node2.Name, out)
		}
		clean := doc.Nodes[1]
		if clean.Node != node1.Name || clean.Disagrees || clean.Drift != 0 || clean.KubeProxy != "healthy" || clean.Error != "" {
			t.Errorf("%s: disagrees %v (%v), drift %d, kube-proxy %q, error %q; want a clean healthy node\n%s",
				clean.Node, clean.Disagrees, clean.Why, clean.Drift, clean.KubeProxy, clean.Error, out)
		}
		for _, f := range clean.Findings {
			if f.Severity != trace.SeverityInfo {
				t.Errorf("%s: %s %s: %s", clean.Node, f.Severity, f.ID, f.Message)
			}
		}

		// The same comparison in the terminal UI: the Nodes screen lists
		// node-2 first; enter shows its trace, esc goes back.
		term := openTerminal(t, "svctrace-e2e-nodes-"+ns, fmt.Sprintf("env PATH=%q KUBECONFIG=%q %s svctrace hostnames -n %s --all-nodes -i --agent-image %s",
			s.path, c.Kubeconfig, s.kubectl, ns, agentImage))
		term.wait(ns + "/hostnames on 2 nodes")
		screen := term.screen()
		if i1, i2 := strings.Index(screen, " "+node1.Name+" "), strings.Index(screen, " "+node2.Name+" "); i2 < 0 || i1 < 0 || i2 > i1 {
			t.Fatalf("Nodes screen does not list %s before %s:\n%s", node2.Name, node1.Name, screen)
		}
		term.wait("Nodes 1/2")
		term.keys("Enter")
		term.wait("node " + node2.Name)
		term.keys("Escape")
		term.wait("enter shows a node's trace")
		term.keys("Enter")
		term.wait("node " + node2.Name)
		term.keys("Tab") // Findings, of node-2's trace
		term.wait(chain)
		term.keys("q")
	})
}

// kubectlExec runs the real kubectl as admin with stdin, and returns its
// combined output and exit code.
func (s *suite) kubectlExec(ctx context.Context, t *testing.T, stdin string, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, s.kubectl, args...)
	cmd.Env = childEnv(os.Environ(), "PATH="+s.path, "KUBECONFIG="+shared.cluster.Kubeconfig)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		return string(out), exit.ExitCode()
	case err != nil:
		t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out), 0
}

// waitRules waits until node n's kube-proxy rules hold every string of
// want (a DNAT to an endpoint, a node port).
func waitRules(ctx context.Context, t *testing.T, e *env, n *harness.Node, want ...string) {
	t.Helper()
	d := ruleDump[e.s.proxyMode]
	poll(ctx, t, 30*time.Second, fmt.Sprintf("kube-proxy rules on %s holding %q", n.Name, want), func(ctx context.Context) (bool, error) {
		dump, err := n.Exec(ctx, d.cmd[0], d.cmd[1:]...)
		if err != nil {
			return false, nil
		}
		for _, w := range want {
			if !strings.Contains(string(dump), w) {
				return false, nil
			}
		}
		return true, nil
	})
}

// inNetNSClient sends HTTP requests from inside a network namespace, e.g.
// a pod's.
func inNetNSClient(netns string, timeout time.Duration) *http.Client {
	return &http.Client{Timeout: timeout, Transport: &http.Transport{
		DisableKeepAlives: true,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return harness.DialInNetNS(ctx, netns, network, addr)
		},
	}}
}
