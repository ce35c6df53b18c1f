package source

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/utils/ptr"

	"github.com/svctrace/kubectl-svctrace/trace"
)

// scaledToZero is a cluster whose Service selects app=web while its
// Deployment is scaled to 0, next to an unrelated Deployment.
func scaledToZero() *fake.Clientset {
	deployment := func(name, app string, replicas int32) *appsv1.Deployment {
		return &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
			Spec: appsv1.DeploymentSpec{Replicas: ptr.To(replicas), Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": app}}}}}
	}
	return fake.NewClientset(
		&corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
			Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "web"}, Ports: []corev1.ServicePort{{Port: 80}}}},
		deployment("web", "web", 0), deployment("db", "db", 1),
		&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "db-0", Namespace: "default", Labels: map[string]string{"app": "db"}}})
}

// When no pod matches, the workloads are listed once per kind and only
// those whose template matches are kept; the FailedCreate events are read
// for the kinds that hold one (a Deployment's pods come from ReplicaSets).
// When pods match, none of it is read (TestRequestsDoNotGrowWithCluster).
func TestWorkloadsReadOnlyWhenNoPodMatches(t *testing.T) {
	c := scaledToZero()
	in, err := (Fetcher{Client: API(c)}).Fetch(context.Background(), "default", "web")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`get services ns="default" name=web`,
		`get services ns="kube-system" name=kube-dns`,
		`list daemonsets ns="default" labels="" fields=""`,
		`list deployments ns="default" labels="" fields=""`,
		`list endpointslices ns="default" labels="kubernetes.io/service-name=web" fields=""`,
		`list events ns="default" labels="" fields="involvedObject.kind=ReplicaSet,type=Warning"`,
		`list events ns="default" labels="" fields="involvedObject.kind=Service,involvedObject.name=web"`,
		`list networkpolicies ns="default" labels="" fields=""`,
		`list pods ns="default" labels="" fields=""`,
		`list pods ns="default" labels="app=web" fields=""`,
		`list replicasets ns="default" labels="" fields=""`,
		`list statefulsets ns="default" labels="" fields=""`,
	}
	if diff := cmp.Diff(want, actionStrings(c)); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
	if len(in.Workloads.Deployments) != 1 || in.Workloads.Deployments[0].Name != "web" {
		t.Errorf("deployments kept %+v, want only web", in.Workloads.Deployments)
	}
}

// A forbidden workload list is a gap like any other read: the trace says
// it could not check, and does not claim that no template matches.
func TestForbiddenWorkloadsBecomeGaps(t *testing.T) {
	c := scaledToZero()
	forbid(c, "list", "deployments")
	in, err := (Fetcher{Client: API(c)}).Fetch(context.Background(), "default", "web")
	if err != nil {
		t.Fatal(err)
	}
	if len(in.Gaps) != 1 || in.Gaps[0].Resource != string(Deployments) || !in.Gaps[0].Forbidden {
		t.Fatalf("gaps %+v, want list deployments.apps forbidden", in.Gaps)
	}
	var ids []string
	for _, f := range trace.Build(*in).Findings {
		ids = append(ids, f.ID)
		if f.ID == trace.NoPodsMatchSelector && strings.Contains(f.Message, "matches it either") {
			t.Errorf("claims no template matches though deployments were not read: %s", f.Message)
		}
	}
	if diff := cmp.Diff([]string{trace.NoPodsMatchSelector, trace.NoReadyEndpoints, trace.AccessDenied}, ids); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
}
