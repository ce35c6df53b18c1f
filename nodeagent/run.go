package nodeagent

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"

	"github.com/svctrace/kubectl-svctrace/snapshot"
)

// Snapshot runs the agent pod on o.Node and returns the snapshot it wrote.
// The pod is deleted before Snapshot returns, also when ctx is cancelled
// (Ctrl-C). Missing rights and a Pod Security refusal are *AccessError.
func Snapshot(ctx context.Context, client kubernetes.Interface, o Options) (*snapshot.Snapshot, error) {
	pods := client.CoreV1().Pods(o.Namespace)
	created, err := pods.Create(ctx, Pod(o), metav1.CreateOptions{})
	if err != nil {
		return nil, createError(err, o)
	}
	defer deletePod(ctx, client, created)
	pod, err := waitDone(ctx, client, created, o.Wait)
	if err != nil {
		return nil, err
	}
	logs, err := readLogs(ctx, client, pod, "agent")
	if err != nil {
		return nil, err
	}
	s, err := snapshot.Decode(bytes.NewReader(logs))
	if err != nil {
		if errors.Is(err, snapshot.ErrNoSnapshot) {
			return nil, fmt.Errorf("agent pod %s/%s on %s wrote no snapshot (%s): %s", pod.Namespace, pod.Name, o.Node, podState(pod), tail(logs))
		}
		return nil, fmt.Errorf("agent pod %s/%s on %s: %w", pod.Namespace, pod.Name, o.Node, err)
	}
	return s, nil
}

// deletePod removes a pod this package started. The caller's context may
// be cancelled already (Ctrl-C): deletion must still happen, bounded on its
// own.
func deletePod(ctx context.Context, client kubernetes.Interface, pod *corev1.Pod) {
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	defer cancel()
	zero := int64(0)
	_ = client.CoreV1().Pods(pod.Namespace).Delete(dctx, pod.Name, metav1.DeleteOptions{GracePeriodSeconds: &zero})
}

// waitDone waits until the pod's container has finished.
func waitDone(ctx context.Context, client kubernetes.Interface, pod *corev1.Pod, timeout time.Duration) (*corev1.Pod, error) {
	last := pod
	err := wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		p, err := client.CoreV1().Pods(pod.Namespace).Get(ctx, pod.Name, metav1.GetOptions{})
		if err != nil {
			if apierrors.IsForbidden(err) {
				return false, &AccessError{Node: pod.Spec.NodeName, Namespace: pod.Namespace, Missing: "get pods", Err: err}
			}
			return false, nil // transient: try again until the timeout
		}
		last = p
		return p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed, nil
	})
	var ae *AccessError
	switch {
	case errors.As(err, &ae):
		return nil, err
	case err != nil && ctx.Err() != nil:
		return nil, fmt.Errorf("agent pod %s/%s: %w", pod.Namespace, pod.Name, ctx.Err())
	case err != nil:
		return nil, fmt.Errorf("agent pod %s/%s on %s did not finish within %s (%s); check the image (--agent-image) can be pulled and the node is Ready", pod.Namespace, pod.Name, pod.Spec.NodeName, timeout, podState(last))
	}
	return last, nil
}

// readLogs reads what container wrote, at most snapshot.MaxEncoded bytes.
func readLogs(ctx context.Context, client kubernetes.Interface, pod *corev1.Pod, container string) ([]byte, error) {
	rc, err := client.CoreV1().Pods(pod.Namespace).GetLogs(pod.Name, &corev1.PodLogOptions{Container: container}).Stream(ctx)
	if err != nil {
		if apierrors.IsForbidden(err) {
			return nil, &AccessError{Node: pod.Spec.NodeName, Namespace: pod.Namespace, Missing: "get pods/log", Err: err}
		}
		return nil, fmt.Errorf("read the log of container %s of pod %s/%s: %w", container, pod.Namespace, pod.Name, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, snapshot.MaxEncoded+1))
	if err != nil {
		return nil, fmt.Errorf("read the log of container %s of pod %s/%s: %w", container, pod.Namespace, pod.Name, err)
	}
	return b, nil
}

// podState describes where the pod stands: its phase and the container's
// waiting or terminated reason.
func podState(p *corev1.Pod) string {
	s := "phase " + string(p.Status.Phase)
	if p.Status.Phase == "" {
		s = "not started"
	}
	for _, c := range p.Status.ContainerStatuses {
		switch {
		case c.State.Waiting != nil:
			s += ", " + c.State.Waiting.Reason
		case c.State.Terminated != nil:
			s += fmt.Sprintf(", exit code %d %s", c.State.Terminated.ExitCode, c.State.Terminated.Reason)
		}
	}
	if p.Status.Reason != "" {
		s += ", " + p.Status.Reason
	}
	return s
}

// tail is the end of a log, one line, for an error message.
func tail(b []byte) string {
	s := strings.Join(strings.Fields(string(b)), " ")
	if s == "" {
		return "empty log"
	}
	if len(s) > 300 {
		s = "…" + s[len(s)-300:]
	}
	return s
}
