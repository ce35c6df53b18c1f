package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/svctrace/kubectl-svctrace/nodeagent"
	"github.com/svctrace/kubectl-svctrace/snapshot"
	"github.com/svctrace/kubectl-svctrace/trace"
)

// agentOptions are the flags of node mode's client: --node N without a
// dump reads N through a short-lived agent pod.
type agentOptions struct {
	image     string
	namespace string
	timeout   time.Duration
	save      string
	// findings are kube-proxy's and the agent's own, added to every trace.
	findings []trace.Finding
	// snapshots read, by node, for --save.
	snapshots map[string]*snapshot.Snapshot
}

func (a *agentOptions) addFlags(f *pflag.FlagSet) {
	f.StringVar(&a.image, "agent-image", nodeagent.DefaultImage(version), "with --node and no dump: the image of the agent pod that reads the node (it runs kubectl-svctrace --serve --snapshot)")
	f.StringVar(&a.namespace, "agent-namespace", "kube-system", "with --node and no dump: the namespace of the agent pod; its Pod Security level must admit privileged pods")
	f.DurationVar(&a.timeout, "agent-timeout", 90*time.Second, "how long to wait for the agent pod's snapshot")
	f.StringVar(&a.save, "save", "", "write what was read (API objects and node snapshots) to this directory as a bundle that -f DIR traces offline")
}

// readNode fills d from node o.node's snapshot: read live through an agent
// pod, or from a bundle given with -f. It does nothing when dumps were
// given or no node was named.
func (o *options) readNode(ctx context.Context, d *trace.DataplaneInput) error {
	if o.dumps.Any() || o.demo {
		return nil
	}
	var (
		s   *snapshot.Snapshot
		err error
	)
	switch {
	case !o.live():
		if s, err = bundleSnapshot(o.filenames, o.node); s == nil || err != nil {
			return err
		}
	case o.node == "" || o.client == nil:
		return nil
	default:
		if s, err = o.agentSnapshot(ctx); err != nil {
			o.agent.agentFailed(o.node, err)
			return ctx.Err()
		}
	}
	if o.agent.snapshots == nil {
		o.agent.snapshots = map[string]*snapshot.Snapshot{}
	}
	o.agent.snapshots[s.Node] = s
	if _, err := nodeagent.Apply(s, d); err != nil {
		o.agent.agentFailed(s.Node, err)
		return nil
	}
	o.agent.findings = append(o.agent.findings, nodeagent.HealthFindings(s)...)
	return nil
}

// agentSnapshot runs the agent pod on o.node, filtered to the Service
// unless the snapshot is saved.
func (o *options) agentSnapshot(ctx context.Context) (*snapshot.Snapshot, error) {
	args := []string{"--serve", "--snapshot"}
	if o.agent.save == "" {
		svc, err := o.client.CoreV1().Services(o.namespace).Get(ctx, o.name, metav1.GetOptions{})
		if err == nil {
			args = append(args, filterArgs(svc)...)
		}
	}
	s, note, err := o.nodeSnapshot(ctx, o.node, args)
	if note != nil {
		o.agent.findings = append(o.agent.findings, *note)
	}
	return s, err
}

// nodeSnapshot reads node: by asking the --serve pod running there, when
// there is one (no pod to start, nothing to schedule), else through an
// agent pod. note says which, or why asking --serve failed.
func (o *options) nodeSnapshot(ctx context.Context, node string, args []string) (*snapshot.Snapshot, *trace.Finding, error) {
	var note *trace.Finding
	if ns, pod := o.servePod(ctx, node); pod != "" {
		ex, err := o.deps.newExecer(o.configFlags, o.client)
		if err == nil {
			askCtx, cancel := context.WithTimeout(ctx, o.agent.timeout)
			var s *snapshot.Snapshot
			s, err = nodeagent.FromServe(askCtx, ex, ns, pod, args)
			cancel()
			if err == nil {
				return s, serveNote(node, "node "+node+"'s rules were read by asking the --serve pod "+ns+"/"+pod+" that runs there (pods/exec): no agent pod was started",
					"nothing to do: a --serve pod answers faster than an agent pod"), nil
			}
		}
		if ctx.Err() != nil {
			return nil, nil, ctx.Err()
		}
		note = serveNote(node, "node "+node+" runs the --serve pod "+ns+"/"+pod+", but asking it failed ("+err.Error()+"); an agent pod was tried instead",
			"to read nodes through their --serve pods, allow exec in them: create on pods/exec in namespace "+ns)
	}
	s, err := nodeagent.Snapshot(ctx, o.client, nodeagent.Options{
		Node: node, Namespace: o.agent.namespace, Image: o.agent.image, Args: args,
		Deadline: o.agent.timeout + 30*time.Second, Wait: o.agent.timeout,
	})
	return s, note, err
}

// servePod is the --serve pod on node, if the command may ask one.
func (o *options) servePod(ctx context.Context, node string) (namespace, name string) {
	if o.deps.newExecer == nil {
		return "", ""
	}
	return nodeagent.ServePod(ctx, o.client, node)
}

func serveNote(node, message, hint string) *trace.Finding {
	return &trace.Finding{ID: nodeagent.NodeReadThroughServe, Severity: trace.SeverityInfo, Subject: "node/" + node, Message: message, Hint: hint}
}

// filterArgs keeps the snapshot to svc: its addresses and node ports.
func filterArgs(svc *corev1.Service) []string {
	addrs := append([]string{}, svc.Spec.ClusterIPs...)
	addrs = append(addrs, svc.Spec.ExternalIPs...)
	for _, in := range svc.Status.LoadBalancer.Ingress {
		if in.IP != "" {
			addrs = append(addrs, in.IP)
		}
	}
	addrs = slices.DeleteFunc(addrs, func(a string) bool { return a == "" || a == corev1.ClusterIPNone })
	var ports []string
	for _, p := range svc.Spec.Ports {
		if p.NodePort != 0 {
			ports = append(ports, strconv.Itoa(int(p.NodePort)))
		}
	}
	if svc.Spec.HealthCheckNodePort != 0 {
		ports = append(ports, strconv.Itoa(int(svc.Spec.HealthCheckNodePort)))
	}
	args := []string{"--snapshot-service", svc.Namespace + "/" + svc.Name}
	if len(addrs) > 0 {
		args = append(args, "--snapshot-addresses", strings.Join(addrs, ","))
	}
	if len(ports) > 0 {
		args = append(args, "--snapshot-node-ports", strings.Join(ports, ","))
	}
	return args
}

// agentFailed records why node could not be read as one finding; the
// trace goes on with the rules kube-proxy should write.
func (a *agentOptions) agentFailed(node string, err error) {
	f := trace.Finding{ID: nodeagent.NodeAgentNotRun, Severity: trace.SeverityWarning, Subject: "node/" + node,
		Message: "could not read node " + node + "'s rules: " + err.Error(),
		Hint:    "the dataplane shown is what kube-proxy should write, not what the node holds; see the error, or pass the node's dumps (--iptables-save, --nft, --ipvs)"}
	var ae *nodeagent.AccessError
	if errors.As(err, &ae) {
		f.Hint = ae.Hint()
	}
	a.findings = append(a.findings, f)
}

// addFindings adds the node findings to a trace.
func (a *agentOptions) addFindings(t *trace.Trace) {
	if len(a.findings) == 0 {
		return
	}
	t.Findings = append(t.Findings, a.findings...)
	trace.SortFindings(t.Findings)
}

// bundleSnapshot finds node's snapshot in a --save bundle given with -f:
// DIR/nodes/NODE.snapshot, or the only snapshot there when node is empty.
func bundleSnapshot(paths []string, node string) (*snapshot.Snapshot, error) {
	for _, p := range paths {
		dir := filepath.Join(p, "nodes")
		if node != "" {
			f, err := os.Open(filepath.Join(dir, node+".snapshot"))
			if err != nil {
				continue
			}
			defer f.Close()
			s, err := snapshot.Decode(f)
			if err != nil {
				return nil, fmt.Errorf("-f %s: %s: %w", p, f.Name(), err)
			}
			return s, nil
		}
		matches, _ := filepath.Glob(filepath.Join(dir, "*.snapshot"))
		if len(matches) == 1 {
			b, err := os.Open(matches[0])
			if err != nil {
				return nil, fmt.Errorf("-f %s: %w", p, err)
			}
			defer b.Close()
			s, err := snapshot.Decode(b)
			if err != nil {
				return nil, fmt.Errorf("-f %s: %s: %w", p, matches[0], err)
			}
			return s, nil
		}
	}
	return nil, nil
}
