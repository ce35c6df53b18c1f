package harness

import (
	"context"
	"fmt"
	"os"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
)

// reportStatus writes the pod's status through the status subresource, as
// the kubelet does. A pod that is gone or replaced is left alone.
func (k *kubelet) reportStatus(ctx context.Context, pod *corev1.Pod, rt *podRuntime, probers []*prober) error {
	return k.updateStatus(ctx, pod, rt, func(cur *corev1.Pod) {
		cur.Status = runningStatus(cur, rt, probers, k.node)
	})
}

// updateStatus applies set to the pod's current status and writes it back,
// retrying on conflicts; a pod that is gone or replaced is left alone.
func (k *kubelet) updateStatus(ctx context.Context, pod *corev1.Pod, rt *podRuntime, set func(cur *corev1.Pod)) error {
	pods := k.c.Client.CoreV1().Pods(pod.Namespace)
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		cur, err := pods.Get(ctx, pod.Name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return err
		}
		if cur.UID != rt.uid {
			return nil
		}
		set(cur)
		_, err = pods.UpdateStatus(ctx, cur, metav1.UpdateOptions{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		return err
	})
}

// runningStatus is the status of a started pod whose containers have the
// readiness of probers. Condition transition times move only on change.
func runningStatus(cur *corev1.Pod, rt *podRuntime, probers []*prober, node *Node) corev1.PodStatus {
	started := metav1.NewTime(rt.started)
	allReady := true
	var containers []corev1.ContainerStatus
	for _, p := range probers {
		allReady = allReady && p.ready
		containerID := "svctrace://" + rt.key + "/" + p.container.Name
		if rt.proc != nil {
			containerID = fmt.Sprintf("svctrace://%d", rt.proc.rec.PID)
		}
		t := true
		containers = append(containers, corev1.ContainerStatus{
			Name:        p.container.Name,
			Image:       p.container.Image,
			ImageID:     p.container.Image,
			ContainerID: containerID,
			Ready:       p.ready,
			Started:     &t,
			State:       corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: started}},
		})
	}
	st := cur.Status.DeepCopy()
	st.Phase = corev1.PodRunning
	st.HostIP = node.IP.String()
	st.HostIPs = hostIPs(node)
	st.PodIP = rt.ip.String()
	st.PodIPs = podIPs(rt.ip, rt.ip6)
	st.StartTime = &started
	st.ContainerStatuses = containers
	for _, c := range []struct {
		typ corev1.PodConditionType
		ok  bool
	}{
		{corev1.PodScheduled, true},
		{corev1.PodReadyToStartContainers, true},
		{corev1.PodInitialized, true},
		{corev1.ContainersReady, allReady},
		{corev1.PodReady, allReady},
	} {
		setCondition(st, c.typ, c.ok)
	}
	return *st
}

func setCondition(st *corev1.PodStatus, typ corev1.PodConditionType, ok bool) {
	status := corev1.ConditionFalse
	reason := "ContainersNotReady"
	if ok {
		status, reason = corev1.ConditionTrue, ""
	}
	for i := range st.Conditions {
		c := &st.Conditions[i]
		if c.Type != typ {
			continue
		}
		if c.Status != status {
			c.Status = status
			c.LastTransitionTime = metav1.Now()
		}
		c.Reason = reason
		return
	}
	st.Conditions = append(st.Conditions, corev1.PodCondition{
		Type: typ, Status: status, Reason: reason, LastTransitionTime: metav1.Now(),
	})
}

// PodNetNS names the network namespace of a running pod, for
// `ip netns exec` or DialInNetNS; host-network pods share the node's.
func (c *Cluster) PodNetNS(namespace, name string) (string, error) {
	n, rt := c.podRuntime(namespace, name)
	if rt == nil {
		return "", fmt.Errorf("pod %s/%s does not run on any node (not created, not bound, or deleted)", namespace, name)
	}
	return rt.network(n), nil
}

// podRuntime finds the node that runs a pod, and what it runs for it.
func (c *Cluster) podRuntime(namespace, name string) (*Node, *podRuntime) {
	for _, n := range c.Nodes {
		if n.kubelet == nil {
			continue
		}
		if rt := n.kubelet.runtime(namespace, name); rt != nil {
			return n, rt
		}
	}
	return nil, nil
}

// SetPodHealthy makes a running pod's server answer HTTP normally (true) or
// with 503 (false); readiness follows at the pace of the pod's probe.
func (c *Cluster) SetPodHealthy(namespace, name string, healthy bool) error {
	_, rt := c.podRuntime(namespace, name)
	if rt == nil || rt.failFile == "" {
		return fmt.Errorf("pod %s/%s does not run a pod server on any node", namespace, name)
	}
	if healthy {
		if err := os.Remove(rt.failFile); err != nil && !os.IsNotExist(err) {
			return fmt.Errorf("mark pod %s/%s healthy: %w", namespace, name, err)
		}
		return nil
	}
	if err := os.WriteFile(rt.failFile, nil, 0o644); err != nil {
		return fmt.Errorf("mark pod %s/%s unhealthy: %w", namespace, name, err)
	}
	return nil
}
