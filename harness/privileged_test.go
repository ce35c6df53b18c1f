package harness_test

import (
	"context"
	"testing"

	"github.com/svctrace/kubectl-svctrace/harness"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// checkPrivilegedAdmitted checks the API server admits the pod kubectl
// debug node/… --profile=sysadmin makes (privileged, host namespaces, the
// host's root mounted), as real clusters do. A server-side dry run goes
// through validation and admission without running anything.
func checkPrivilegedAdmitted(ctx context.Context, t *testing.T, c *harness.Cluster) {
	t.Helper()
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "node-debugger-node-1-check", Namespace: "default"},
		Spec: corev1.PodSpec{
			NodeName: c.Node.Name, HostNetwork: true, HostPID: true, HostIPC: true,
			RestartPolicy: corev1.RestartPolicyNever,
			Containers: []corev1.Container{{
				Name: "debugger", Image: "busybox", Command: []string{"chroot", "/host", "iptables-save"},
				SecurityContext: &corev1.SecurityContext{Privileged: ptr.To(true)},
				VolumeMounts:    []corev1.VolumeMount{{Name: "host-root", MountPath: "/host"}},
			}},
			Volumes: []corev1.Volume{{Name: "host-root", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/"}}}},
		},
	}
	if _, err := c.Client.CoreV1().Pods("default").Create(ctx, pod, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}}); err != nil {
		t.Errorf("the API server refuses the pod of kubectl debug node/… --profile=sysadmin: %v", err)
	}
}
