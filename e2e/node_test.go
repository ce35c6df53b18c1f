package e2e

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/svctrace/kubectl-svctrace/fleet"
	"github.com/svctrace/kubectl-svctrace/harness"
	"github.com/svctrace/kubectl-svctrace/nodeagent"
	"github.com/svctrace/kubectl-svctrace/snapshot"
	"github.com/svctrace/kubectl-svctrace/trace"
)

// agentImage is the plugin's image: the harness runs the build under test
// for it, as a node would run the release image.
const agentImage = harness.PluginImage + ":e2e"

// TestNodeAgent reads node-1's live rules through the agent pod with
// `kubectl svctrace hostnames --node node-1` and breaks the node in the
// ways node mode must name. It runs alone (not parallel): it stops
// kube-proxy and edits the node's rules.
func TestNodeAgent(t *testing.T) {
	s, c := require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	ns := newNamespace(ctx, t, c.Client, "e2e-node")
	create(ctx, t, c.Client, ns,
		hostnamesService("hostnames", map[string]string{"app": "hostnames"}, intstr.FromInt32(servePort)),
		threePods(nil)...)
	e := &env{s: s, c: c, ns: ns}
	withNodeRules(ctx, t, e, "hostnames", nil) // waits for kube-proxy's rules
	node := c.Node.Name
	agentTrace := func(t *testing.T, kubeconfig string) result {
		t.Helper()
		r := s.svctrace(ctx, t, kubeconfig, "hostnames", "-n", ns, "--node", node, "--agent-image", agentImage, "--agent-timeout", "45s")
		noAgentLeft(ctx, t, c)
		if r.doc == nil {
			t.Fatalf("no trace\n%s", r)
		}
		return r
	}

	t.Run("live rules", func(t *testing.T) {
		r := agentTrace(t, c.Kubeconfig)
		checkResult(t, r, expect{exit: 0})
		checkNodeRules(ctx, t, e, r)
		for _, dp := range r.doc.Dataplane {
			if !strings.HasPrefix(dp.Source, "node/"+node+": ") {
				t.Errorf("dataplane source %q, want the agent's snapshot of %s", dp.Source, node)
			}
		}
	})

	t.Run("observed split beside the expected one", func(t *testing.T) {
		// Each new connection from the node passes one endpoint's DNAT rule
		// once; the snapshot keeps those counters (iptables-save -c).
		const n = 30
		getFromNode(ctx, t, e, "hostnames", n)
		r := agentTrace(t, c.Kubeconfig)
		var walked bool
		for _, dp := range r.doc.Dataplane {
			for _, w := range dp.Walks {
				var packets uint64
				var share float64
				for _, o := range w.Outcomes {
					if o.Observed == nil {
						t.Errorf("walk to %s: outcome %s has no observed split\n%s", w.Packet.Destination, o.Target, r)
						continue
					}
					packets += o.Observed.Packets
					share += o.Observed.Share
				}
				walked = true
				if packets < n || share < 0.999 || share > 1.001 {
					t.Errorf("walk to %s: observed %d connections with shares summing to %.3f, want at least the %d made and shares summing to 1", w.Packet.Destination, packets, share, n)
				}
			}
		}
		if !walked {
			t.Fatalf("no walk\n%s", r)
		}
	})

	t.Run("save and replay", func(t *testing.T) {
		dir := t.TempDir()
		r := s.svctrace(ctx, t, c.Kubeconfig, "hostnames", "-n", ns, "--node", node, "--agent-image", agentImage, "--save", dir)
		noAgentLeft(ctx, t, c)
		checkResult(t, r, expect{exit: 0})
		offline := s.svctrace(ctx, t, c.Kubeconfig, "hostnames", "-n", ns, "-f", dir, "--node", node)
		checkResult(t, offline, expect{exit: 0})
		checkNodeRules(ctx, t, e, offline)
		if len(offline.doc.Dataplane) == 0 || !strings.HasPrefix(offline.doc.Dataplane[0].Source, "node/"+node+": ") {
			t.Errorf("replay does not walk the saved snapshot\n%s", offline)
		}
	})

	t.Run("kubectl debug node and kubectl logs", func(t *testing.T) {
		snap := debugNodeSnapshot(ctx, t, s, ns, node)
		if snap.Node != node || !strings.Contains(nodeagent.IPTablesSection(snap).Output, "KUBE-SERVICES") {
			t.Errorf("snapshot of node %q without kube-proxy's rules", snap.Node)
		}
	})

	t.Run("deleted endpoint chain", func(t *testing.T) {
		if s.proxyMode != "iptables" {
			t.Skipf("deletes a KUBE-SEP chain of kube-proxy's iptables mode; kube-proxy runs in %s mode", s.proxyMode)
		}
		chain := deleteSEPChain(ctx, t, c.Node, ns, "hostnames")
		doc, out := allNodes(ctx, t, s, c, "hostnames", ns)
		if len(doc.Nodes) == 0 || doc.Nodes[0].Node != node || !doc.Nodes[0].Disagrees || doc.Nodes[0].Drift == 0 {
			t.Fatalf("--all-nodes does not put %s first as disagreeing with drift:\n%s", node, out)
		}
		if !slices.ContainsFunc(doc.Nodes[0].Findings, func(f trace.Finding) bool {
			return f.Severity == trace.SeverityError && strings.Contains(f.Subject+" "+f.Message+" "+f.Hint, chain)
		}) {
			t.Errorf("--all-nodes names no error for the deleted chain %s:\n%s", chain, out)
		}
	})

	t.Run("rules in the legacy backend too", func(t *testing.T) {
		if out, err := c.Node.Exec(ctx, "iptables-legacy", "-t", "nat", "-N", "KUBE-SERVICES"); err != nil {
			t.Fatalf("add legacy chain: %v\n%s", err, out)
		}
		t.Cleanup(func() {
			_, _ = c.Node.Exec(context.Background(), "iptables-legacy", "-t", "nat", "-X", "KUBE-SERVICES")
		})
		r := agentTrace(t, c.Kubeconfig)
		want := wantFinding{id: nodeagent.MixedIPTablesBackends, severity: "error", subject: "node/" + node}
		if !slices.ContainsFunc(r.doc.Findings, want.matches) {
			t.Errorf("no %s finding\n%s", want.id, r)
		}
	})

	t.Run("kube-proxy stopped", func(t *testing.T) {
		if err := c.StopKubeProxy(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if err := c.StartKubeProxy(context.Background()); err != nil {
				t.Errorf("restart kube-proxy: %v", err)
			}
		})
		r := agentTrace(t, c.Kubeconfig)
		want := wantFinding{id: nodeagent.KubeProxyNotRunning, severity: "error", subject: "node/" + node}
		if !slices.ContainsFunc(r.doc.Findings, want.matches) || r.exit != 3 {
			t.Errorf("no %s finding or exit %d (want 3)\n%s", want.id, r.exit, r)
		}
	})

	t.Run("user without the node-read role", func(t *testing.T) {
		role, err := c.CreateClusterRole(ctx, "../deploy/clusterrole.yaml")
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Grant(ctx, harness.ViewerUser, role); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			_ = c.Client.RbacV1().ClusterRoleBindings().Delete(context.Background(), harness.ViewerUser+"-"+role, metav1.DeleteOptions{})
		})
		var r result
		poll(ctx, t, 20*time.Second, "viewer allowed to trace "+ns, func(ctx context.Context) (bool, error) {
			r = s.svctrace(ctx, t, c.ViewerKubeconfig, "hostnames", "-n", ns, "--node", node, "--agent-image", agentImage)
			return r.exit != 1, nil
		})
		noAgentLeft(ctx, t, c)
		want := wantFinding{id: nodeagent.NodeAgentNotRun, severity: "warning", subject: "node/" + node, contains: []string{"create pods"}}
		if r.doc == nil || !slices.ContainsFunc(r.doc.Findings, want.matches) {
			t.Fatalf("no %s finding naming the refused create\n%s", want.id, r)
		}
		if eps := endpointsOf(t, r); len(eps) != 3 {
			t.Errorf("the rest of the trace lists %d endpoints, want 3\n%s", len(eps), r)
		}
		for _, f := range r.doc.Findings {
			if f.ID == nodeagent.NodeAgentNotRun && !strings.Contains(f.Hint, nodeagent.NodeReaderRole) {
				t.Errorf("hint %q does not name the role to bind", f.Hint)
			}
		}
	})
}

// debugNodeSnapshot runs `kubectl debug node/NODE --profile=sysadmin
// --image=PLUGIN -- kubectl-svctrace --serve --snapshot` in namespace ns and
// decodes the snapshot that `kubectl logs` reads from the debug pod.
func debugNodeSnapshot(ctx context.Context, t *testing.T, s *suite, ns, node string) *snapshot.Snapshot {
	t.Helper()
	out := s.kubectlOut(ctx, t, "debug", "node/"+node, "-n", ns, "--profile=sysadmin", "--image="+agentImage, "--", "kubectl-svctrace", "--serve", "--snapshot")
	pod := regexp.MustCompile(`pod (node-debugger-[a-z0-9-]+)`).FindStringSubmatch(out)
	if pod == nil {
		t.Fatalf("kubectl debug named no pod:\n%s", out)
	}
	t.Cleanup(func() { s.kubectlOut(context.Background(), t, "delete", "pod", "-n", ns, pod[1], "--wait=false") })
	var logs string
	poll(ctx, t, 60*time.Second, "snapshot in the log of "+pod[1], func(ctx context.Context) (bool, error) {
		logs = s.kubectlOut(ctx, t, "logs", "-n", ns, pod[1])
		return strings.Contains(logs, "-----END SVCTRACE SNAPSHOT-----"), nil
	})
	snap, err := snapshot.Decode(strings.NewReader(logs))
	if err != nil {
		t.Fatalf("kubectl logs %s: %v\n%s", pod[1], err, logs)
	}
	return snap
}

// deleteSEPChain deletes by hand, on node n, a KUBE-SEP chain of kube-proxy
// for Service ns/svc (port without name): its declaration, its rules and
// the jump to it. It returns the chain's name.
func deleteSEPChain(ctx context.Context, t *testing.T, n *harness.Node, ns, svc string) string {
	t.Helper()
	return deleteSEPChainOf(ctx, t, n, "iptables", ns, svc)
}

// deleteSEPChainOf is deleteSEPChain in kube-proxy's rules of one family:
// tool is iptables (IPv4) or ip6tables (IPv6).
func deleteSEPChainOf(ctx context.Context, t *testing.T, n *harness.Node, tool, ns, svc string) string {
	t.Helper()
	dump, err := n.Exec(ctx, tool+"-save", "-t", "nat")
	if err != nil {
		t.Fatal(err)
	}
	sep := regexp.MustCompile(`-A (KUBE-SEP-[A-Z0-9]+) .*--comment "?` + ns + "/" + svc + `"? `).FindStringSubmatch(string(dump))
	if sep == nil {
		t.Fatalf("no KUBE-SEP chain of %s/%s on %s in\n%s", ns, svc, n.Name, dump)
	}
	if out, err := n.Exec(ctx, "sh", "-c", tool+"-save -t nat | grep -v -- '"+sep[1]+"' | "+tool+"-restore -T nat"); err != nil {
		t.Fatalf("delete %s on %s: %v\n%s", sep[1], n.Name, err, out)
	}
	return sep[1]
}

// allNodes runs `kubectl svctrace SVC -n NS --all-nodes -o json`, checks
// that no agent pod is left, and decodes the comparison.
func allNodes(ctx context.Context, t *testing.T, s *suite, c *harness.Cluster, svc, ns string) (fleet.Document, string) {
	t.Helper()
	out := s.kubectlOut(ctx, t, "svctrace", svc, "-n", ns, "--all-nodes", "--agent-image", agentImage, "-o", "json")
	noAgentLeft(ctx, t, c)
	var doc fleet.Document
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("--all-nodes -o json: %v\n%s", err, out)
	}
	return doc, out
}

// noAgentLeft fails t when an agent pod is still there.
func noAgentLeft(ctx context.Context, t *testing.T, c *harness.Cluster) {
	t.Helper()
	pods, err := c.Client.CoreV1().Pods(corev1.NamespaceAll).List(ctx, metav1.ListOptions{LabelSelector: nodeagent.LabelKey + "=" + nodeagent.LabelValue})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pods.Items {
		t.Errorf("agent pod %s/%s left behind (phase %s)", p.Namespace, p.Name, p.Status.Phase)
	}
}

// kubectlOut runs the real kubectl as admin and returns its combined output.
func (s *suite) kubectlOut(ctx context.Context, t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.CommandContext(ctx, s.kubectl, args...)
	cmd.Env = childEnv(os.Environ(), "PATH="+s.path, "KUBECONFIG="+shared.cluster.Kubeconfig)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Logf("kubectl %s: %v", strings.Join(args, " "), err)
	}
	return string(out)
}
