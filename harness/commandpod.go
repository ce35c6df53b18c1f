package harness

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// PluginImage is the plugin's release image repository. A pod whose only
// container uses it (any tag) runs its command for real: the freshly built
// kubectl-svctrace (Bins.Plugin), in the node's network namespace for
// hostNetwork pods and in the pod's own otherwise.
const PluginImage = "ghcr.io/svctrace/kubectl-svctrace"

// isPluginPod reports whether the kubelet runs pod's command.
func (k *kubelet) isPluginPod(pod *corev1.Pod) bool {
	if k.c.bins.Plugin == "" || len(pod.Spec.Containers) != 1 {
		return false
	}
	return isPluginImage(pod.Spec.Containers[0].Image)
}

// pluginArgv is the command line of the plugin container: its command (or
// the image's entrypoint, kubectl-svctrace) with the built binary in place
// of kubectl-svctrace.
func pluginArgv(c corev1.Container, plugin string) []string {
	argv := append(append([]string{}, c.Command...), c.Args...)
	if len(argv) == 0 || path.Base(argv[0]) != "kubectl-svctrace" {
		argv = append([]string{"kubectl-svctrace"}, argv...)
	}
	argv[0] = plugin
	return argv
}

// startCommand runs the plugin pod's process; the pod's network is ready.
func (k *kubelet) startCommand(pod *corev1.Pod, rt *podRuntime) error {
	c := pod.Spec.Containers[0]
	argv := pluginArgv(c, k.c.bins.Plugin)
	env := []string{"NODE_NAME=" + k.node.Name, "PATH=/usr/sbin:/usr/bin:/sbin:/bin"}
	for _, e := range c.Env {
		if e.ValueFrom == nil {
			env = append(env, e.Name+"="+e.Value)
		}
	}
	netns := rt.netns
	if pod.Spec.HostNetwork {
		netns = k.node.NetNS
	}
	proc, err := startProcess(k.c.manifest, k.c.logDir, procSpec{
		name:  "pod-" + pod.Namespace + "-" + pod.Name,
		netns: netns,
		path:  argv[0],
		args:  argv[1:],
		env:   env,
	})
	if err != nil {
		return err
	}
	rt.proc, rt.command = proc, true
	return nil
}

// waitCommand reports the plugin pod Running, then Succeeded or Failed when
// its process exits, or Failed (DeadlineExceeded) when it outlives
// activeDeadlineSeconds, as a kubelet does.
func (rt *podRuntime) waitCommand(ctx context.Context, k *kubelet, pod *corev1.Pod) {
	defer close(rt.done)
	c := pod.Spec.Containers[0]
	running := corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.NewTime(rt.started)}}
	if err := k.reportCommand(ctx, pod, rt, corev1.PodRunning, c, running, ""); err != nil {
		k.c.cfg.Logf("kubelet: status of pod %s: %v", rt.key, err)
	}
	var deadline <-chan time.Time
	if d := pod.Spec.ActiveDeadlineSeconds; d != nil {
		deadline = time.After(time.Until(rt.started.Add(time.Duration(*d) * time.Second)))
	}
	reason := ""
	select {
	case <-ctx.Done():
		return
	case <-rt.proc.done:
	case <-deadline:
		reason = "DeadlineExceeded"
		_ = rt.proc.stop(k.c.manifest, time.Second)
	}
	code := exitCode(rt.proc.err)
	phase, why := corev1.PodSucceeded, "Completed"
	if code != 0 || reason != "" {
		phase, why = corev1.PodFailed, "Error"
	}
	done := corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
		ExitCode: int32(code), Reason: why, StartedAt: metav1.NewTime(rt.started), FinishedAt: metav1.Now(),
		ContainerID: fmt.Sprintf("svctrace://%d", rt.proc.rec.PID)}}
	if err := k.reportCommand(ctx, pod, rt, phase, c, done, reason); err != nil {
		k.c.cfg.Logf("kubelet: status of pod %s: %v", rt.key, err)
	}
}

func exitCode(err error) int {
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee) && ee.ExitCode() >= 0:
		return ee.ExitCode()
	}
	return 137 // killed
}

// reportCommand writes the plugin pod's phase and container state.
func (k *kubelet) reportCommand(ctx context.Context, pod *corev1.Pod, rt *podRuntime, phase corev1.PodPhase, c corev1.Container, state corev1.ContainerState, reason string) error {
	return k.updateStatus(ctx, pod, rt, func(cur *corev1.Pod) {
		started := metav1.NewTime(rt.started)
		st := &cur.Status
		st.Phase, st.Reason = phase, reason
		st.HostIP, st.HostIPs = k.node.IP.String(), hostIPs(k.node)
		st.PodIP, st.PodIPs = rt.ip.String(), podIPs(rt.ip, rt.ip6)
		st.StartTime = &started
		isRunning := state.Running != nil
		st.ContainerStatuses = []corev1.ContainerStatus{{
			Name: c.Name, Image: c.Image, ImageID: c.Image, Ready: isRunning, Started: &isRunning, State: state,
			ContainerID: fmt.Sprintf("svctrace://%d", rt.proc.rec.PID),
		}}
		setCondition(st, corev1.PodScheduled, true)
		setCondition(st, corev1.PodInitialized, true)
		setCondition(st, corev1.ContainersReady, isRunning)
		setCondition(st, corev1.PodReady, isRunning)
	})
}
