package harness

import (
	"slices"
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
