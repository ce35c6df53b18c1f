package harness

import (
	"context"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
)

// TestCommandPodStatus runs a real short process as a plugin pod's and
// checks the status the kubelet stand-in reports: Failed with the exit
// code, or Failed with DeadlineExceeded past activeDeadlineSeconds.
func TestCommandPodStatus(t *testing.T) {
	for _, tc := range []struct {
		name     string
		script   string
		deadline int64
		phase    corev1.PodPhase
		code     int32
		reason   string
	}{
		{"exit code", "echo snapshot; exit 3", 30, corev1.PodFailed, 3, ""},
		{"success", "echo snapshot", 30, corev1.PodSucceeded, 0, ""},
		{"deadline", "echo snapshot; sleep 30", 1, corev1.PodFailed, 137, "DeadlineExceeded"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "agent", Namespace: "kube-system", UID: "u1"},
				Spec: corev1.PodSpec{ActiveDeadlineSeconds: &tc.deadline, Containers: []corev1.Container{{Name: "agent", Image: PluginImage}}}}
			client := fake.NewClientset(pod)
			c := &Cluster{Client: client, manifest: newManifest(dir), logDir: dir, cfg: Config{Logf: t.Logf}}
			k := &kubelet{c: c, node: &Node{Name: "node-1", IP: netip.MustParseAddr("172.31.0.2")}}
			proc, err := startProcess(c.manifest, dir, procSpec{name: "pod-agent", path: "/bin/sh", args: []string{"-c", tc.script}})
			if err != nil {
				t.Fatal(err)
			}
			rt := &podRuntime{key: "kube-system/agent", uid: "u1", ip: k.node.IP, proc: proc, command: true, started: time.Now(), done: make(chan struct{})}
			rt.waitCommand(context.Background(), k, pod)
			got, err := client.CoreV1().Pods("kube-system").Get(context.Background(), "agent", metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			st := got.Status
			if st.Phase != tc.phase || st.Reason != tc.reason || len(st.ContainerStatuses) != 1 || st.ContainerStatuses[0].State.Terminated == nil {
				t.Fatalf("status %+v, want phase %s reason %q and a terminated container", st, tc.phase, tc.reason)
			}
			if c := st.ContainerStatuses[0].State.Terminated.ExitCode; c != tc.code {
				t.Errorf("exit code %d, want %d", c, tc.code)
			}
			if b, _ := os.ReadFile(proc.log); !strings.Contains(string(b), "snapshot") {
				t.Errorf("log %q lacks the process's output", b)
			}
		})
	}
}
