package harness

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/svctrace/kubectl-svctrace/dns"
)

// writeResolvConf gives a pod's network namespace the resolv.conf the
// kubelet would write for it; `ip netns exec` bind-mounts
// /etc/netns/NAME/resolv.conf over /etc/resolv.conf for what runs there.
func writeResolvConf(netns string, pod *corev1.Pod) error {
	rc, err := dns.PodResolvConf(dns.PodDNS{Pod: pod, ClusterDomain: ClusterDomain, ClusterDNS: []string{DNSServiceIP}})
	if err != nil {
		return err
	}
	dir := filepath.Join("/etc/netns", netns)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("pod resolv.conf: %w", err)
	}
	return os.WriteFile(filepath.Join(dir, "resolv.conf"), []byte(rc.String()), 0o644)
}

// isPluginImage reports whether img is the plugin's image, any tag.
func isPluginImage(img string) bool {
	repo, _, _ := strings.Cut(img, "@")
	if i := strings.LastIndexByte(repo, ':'); i > strings.LastIndexByte(repo, '/') {
		repo = repo[:i]
	}
	return repo == PluginImage
}

// startEphemeral runs the pod's ephemeral containers that have not run
// yet, as `kubectl debug` and the plugin's --probe add them: a plugin-image
// container runs its command in the pod's network namespace; any other
// image waits with ErrImagePull, which this node cannot pull.
func (k *kubelet) startEphemeral(ctx context.Context, pod *corev1.Pod, rt *podRuntime) {
	for _, ec := range pod.Spec.EphemeralContainers {
		rt.mu.Lock()
		_, seen := rt.ephemeral[ec.Name]
		if !seen {
			if rt.ephemeral == nil {
				rt.ephemeral = map[string]*process{}
			}
			rt.ephemeral[ec.Name] = nil
		}
		rt.mu.Unlock()
		if seen {
			continue
		}
		if !isPluginImage(ec.Image) || k.c.bins.Plugin == "" {
			state := corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ErrImagePull", Message: "the test node runs only " + PluginImage}}
			k.reportEphemeral(ctx, pod, rt, ec, state)
			continue
		}
		netns := rt.network(k.node)
		argv := pluginArgv(corev1.Container{Command: ec.Command, Args: ec.Args}, k.c.bins.Plugin)
		proc, err := startProcess(k.c.manifest, k.c.logDir, procSpec{
			name:  "pod-" + pod.Namespace + "-" + pod.Name + "-" + ec.Name,
			netns: netns,
			path:  argv[0],
			args:  argv[1:],
			env:   []string{"NODE_NAME=" + k.node.Name, "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOSTNAME=" + pod.Name},
		})
		if err != nil {
			state := corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "StartError", Message: err.Error()}}
			k.reportEphemeral(ctx, pod, rt, ec, state)
			continue
		}
		rt.mu.Lock()
		rt.ephemeral[ec.Name] = proc
		rt.mu.Unlock()
		started := metav1.Now()
		k.reportEphemeral(ctx, pod, rt, ec, corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: started}})
		k.wg.Go(func() {
			select {
			case <-proc.done:
			case <-ctx.Done():
				return
			}
			code := exitCode(proc.err)
			why := "Completed"
			if code != 0 {
				why = "Error"
			}
			k.reportEphemeral(ctx, pod, rt, ec, corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
				ExitCode: int32(code), Reason: why, StartedAt: started, FinishedAt: metav1.Now(),
				ContainerID: fmt.Sprintf("svctrace://%d", proc.rec.PID)}})
		})
	}
}

// reportEphemeral sets one ephemeral container's status.
func (k *kubelet) reportEphemeral(ctx context.Context, pod *corev1.Pod, rt *podRuntime, ec corev1.EphemeralContainer, state corev1.ContainerState) {
	err := k.updateStatus(ctx, pod, rt, func(cur *corev1.Pod) {
		st := corev1.ContainerStatus{Name: ec.Name, Image: ec.Image, ImageID: ec.Image, State: state}
		for i, s := range cur.Status.EphemeralContainerStatuses {
			if s.Name == ec.Name {
				cur.Status.EphemeralContainerStatuses[i] = st
				return
			}
		}
		cur.Status.EphemeralContainerStatuses = append(cur.Status.EphemeralContainerStatuses, st)
	})
	if err != nil {
		k.c.cfg.Logf("kubelet: ephemeral container %s of pod %s: %v", ec.Name, rt.key, err)
	}
}

// stopEphemeral ends the pod's ephemeral containers' processes.
func (rt *podRuntime) stopEphemeral(k *kubelet) error {
	rt.mu.Lock()
	procs := rt.ephemeral
	rt.mu.Unlock()
	var first error
	for _, p := range procs {
		if p == nil {
			continue
		}
		if err := p.stop(k.c.manifest, time.Second); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// ephemeralLog is the log of the pod's ephemeral container name, if it ran.
func (rt *podRuntime) ephemeralLog(name string) string {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if p := rt.ephemeral[name]; p != nil {
		return p.log
	}
	return ""
}
