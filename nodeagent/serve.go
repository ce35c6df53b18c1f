package nodeagent

import (
	"bytes"
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/kubernetes"

	"github.com/svctrace/kubectl-svctrace/snapshot"
)

// ServeSelector selects the pods of deploy/serve.yaml's DaemonSet: a
// long-running --serve on each node, privileged in the node's network.
const ServeSelector = "app.kubernetes.io/name=kubectl-svctrace,app.kubernetes.io/component=serve"

// serveContainer is the DaemonSet's container.
const serveContainer = "serve"

// NodeReadThroughServe is the info finding of a node read by asking the
// --serve pod running there instead of starting an agent pod.
const NodeReadThroughServe = "NodeReadThroughServe"

// Execer runs argv in a pod's container, as kubectl exec does, and
// returns what it wrote to standard output.
type Execer interface {
	Exec(ctx context.Context, namespace, pod, container string, argv []string) ([]byte, error)
}

// ServePod finds a running, ready --serve pod on node, in any namespace.
// It returns empty names when none runs there or the pods may not be
// listed: the agent pod reads the node then.
func ServePod(ctx context.Context, c kubernetes.Interface, node string) (namespace, name string) {
	pods, err := c.CoreV1().Pods(metav1.NamespaceAll).List(ctx, metav1.ListOptions{
		LabelSelector: ServeSelector,
		FieldSelector: fields.OneTermEqualSelector("spec.nodeName", node).String(),
	})
	if err != nil {
		return "", ""
	}
	for _, p := range pods.Items {
		if p.Spec.NodeName == node && p.Status.Phase == corev1.PodRunning && podReady(&p) && hasServeContainer(&p) {
			return p.Namespace, p.Name
		}
	}
	return "", ""
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func hasServeContainer(p *corev1.Pod) bool {
	for _, c := range p.Spec.Containers {
		if c.Name == serveContainer {
			return true
		}
	}
	return false
}

// FromServe asks the --serve pod namespace/pod for a snapshot of its node:
// kubectl-svctrace --serve --snapshot args, run in its container. The pod
// runs privileged in the node's network namespace, as the agent would.
func FromServe(ctx context.Context, ex Execer, namespace, pod string, args []string) (*snapshot.Snapshot, error) {
	out, err := ex.Exec(ctx, namespace, pod, serveContainer, append([]string{"kubectl-svctrace"}, args...))
	if err != nil {
		return nil, fmt.Errorf("exec in --serve pod %s/%s: %w", namespace, pod, err)
	}
	s, err := snapshot.Decode(bytes.NewReader(out))
	if err != nil {
		return nil, fmt.Errorf("snapshot from --serve pod %s/%s: %w", namespace, pod, err)
	}
	return s, nil
}
