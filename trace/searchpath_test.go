package trace_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/svctrace/kubectl-svctrace/trace"
)

// From a pod in another namespace the short name misses, "web.default"
// resolves on the second try; with ndots:5 even the fully qualified name
// tries the search list first, unless it ends in a dot.
func TestSearchPathForms(t *testing.T) {
	in := input(t, "healthy.yaml", "web", nil)
	in.FromPod = &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "client", Namespace: "shop"},
		Spec:       corev1.PodSpec{DNSPolicy: corev1.DNSClusterFirst},
	}
	in.KubeDNS = &corev1.Service{Spec: corev1.ServiceSpec{ClusterIP: "10.96.0.10"}}
	tr := trace.Build(in)
	if tr.DNS == nil || tr.DNS.SearchPath == nil {
		t.Fatal("no search path in the trace")
	}
	want := []trace.SearchForm{
		{Query: "web", Tries: []string{"web.shop.svc.cluster.local.", "web.svc.cluster.local.", "web.cluster.local.", "web."}},
		{Query: "web.default", Tries: []string{"web.default.shop.svc.cluster.local.", "web.default.svc.cluster.local.", "web.default.cluster.local.", "web.default."},
			Resolves: "web.default.svc.cluster.local."},
		{Query: "web.default.svc", Tries: []string{"web.default.svc.shop.svc.cluster.local.", "web.default.svc.svc.cluster.local.", "web.default.svc.cluster.local.", "web.default.svc."},
			Resolves: "web.default.svc.cluster.local."},
		{Query: "web.default.svc.cluster.local", Tries: []string{"web.default.svc.cluster.local.shop.svc.cluster.local.", "web.default.svc.cluster.local.svc.cluster.local.", "web.default.svc.cluster.local.cluster.local.", "web.default.svc.cluster.local."},
			Resolves: "web.default.svc.cluster.local."},
		{Query: "web.default.svc.cluster.local.", Tries: []string{"web.default.svc.cluster.local."}, Resolves: "web.default.svc.cluster.local."},
	}
	if diff := cmp.Diff(want, tr.DNS.SearchPath.Forms); diff != "" {
		t.Errorf("forms (-want +got):\n%s", diff)
	}
	if got := tr.DNS.SearchPath.Query; got != "web.default" {
		t.Errorf("primary query %q, want web.default for a pod in another namespace", got)
	}
}
