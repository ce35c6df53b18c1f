package harness

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestPluginPods(t *testing.T) {
	k := &kubelet{c: &Cluster{bins: Bins{Plugin: "/cache/kubectl-svctrace"}}}
	pod := func(image string) *corev1.Pod {
		return &corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{{Image: image}}}}
	}
	for image, want := range map[string]bool{
		PluginImage + ":v1.2.3": true, PluginImage: true, PluginImage + "@sha256:abc": true,
		PluginImage + "-other:v1": false, "nicolaka/netshoot": false, "localhost:5000/kubectl-svctrace:v1": false,
	} {
		if got := k.isPluginPod(pod(image)); got != want {
			t.Errorf("isPluginPod(%q) = %v, want %v", image, got, want)
		}
	}
	none := &kubelet{c: &Cluster{}}
	if none.isPluginPod(pod(PluginImage)) {
		t.Error("a plugin pod runs although no plugin binary was built")
	}
	for _, tc := range []struct {
		c    corev1.Container
		want []string
	}{
		{corev1.Container{Command: []string{"kubectl-svctrace"}, Args: []string{"--serve", "--snapshot"}}, []string{"/cache/kubectl-svctrace", "--serve", "--snapshot"}},
		{corev1.Container{Command: []string{"/usr/local/bin/kubectl-svctrace", "--serve"}}, []string{"/cache/kubectl-svctrace", "--serve"}},
		{corev1.Container{Args: []string{"--serve", "--snapshot"}}, []string{"/cache/kubectl-svctrace", "--serve", "--snapshot"}},
	} {
		if got := pluginArgv(tc.c, "/cache/kubectl-svctrace"); !slices.Equal(got, tc.want) {
			t.Errorf("pluginArgv(%+v) = %q, want %q", tc.c, got, tc.want)
		}
	}
}

func TestContainerLogs(t *testing.T) {
	log := filepath.Join(t.TempDir(), "pod.log")
	if err := os.WriteFile(log, []byte("line 1\nline 2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	k := &kubelet{pods: map[string]*podRuntime{"kube-system/agent": {proc: &process{log: log}}}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /containerLogs/{namespace}/{pod}/{container}", k.containerLogs)
	for _, tc := range []struct {
		path string
		code int
		body string
	}{
		{"/containerLogs/kube-system/agent/agent", 200, "line 1\nline 2\n"},
		{"/containerLogs/kube-system/agent/agent?limitBytes=6", 200, "line 1"},
		{"/containerLogs/kube-system/other/agent", 404, "has no log on this node"},
	} {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest("GET", tc.path, nil))
		if rec.Code != tc.code || !strings.Contains(rec.Body.String(), tc.body) {
			t.Errorf("GET %s: %d %q, want %d %q", tc.path, rec.Code, rec.Body.String(), tc.code, tc.body)
		}
	}
	cert, err := selfSigned(netip.MustParseAddr("172.31.0.2"))
	if err != nil || len(cert.Certificate) != 1 {
		t.Fatalf("selfSigned: %v", err)
	}
}
