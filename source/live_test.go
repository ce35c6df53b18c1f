package source

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/utils/ptr"
)

// cluster builds a fake cluster: the traced Service with n pods spread over
// two nodes, plus unrelated objects that must never be read.
func cluster(n int) *fake.Clientset {
	objs := []runtime.Object{
		&corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
			Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "web"}, Ports: []corev1.ServicePort{{Port: 80}}}},
		&discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Name: "web-1", Namespace: "default",
			Labels: map[string]string{discoveryv1.LabelServiceName: "web"}},
			Endpoints: []discoveryv1.Endpoint{{Addresses: []string{"10.0.0.1"}, NodeName: ptr.To("node-0")}}},
	}
	for i := range n {
		objs = append(objs, &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("web-%d", i), Namespace: "default", Labels: map[string]string{"app": "web"}},
			Spec:       corev1.PodSpec{NodeName: fmt.Sprintf("node-%d", i%2)},
		})
		objs = append(objs, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("other-%d", i), Namespace: "default"}})
		objs = append(objs, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("node-%d", i)}})
	}
	return fake.NewClientset(objs...)
}

func actionStrings(c *fake.Clientset) []string {
	var out []string
	for _, a := range c.Actions() {
		s := fmt.Sprintf("%s %s ns=%q", a.GetVerb(), a.GetResource().Resource, a.GetNamespace())
		switch a := a.(type) {
		case k8stesting.GetAction:
			s += " name=" + a.GetName()
		case k8stesting.ListAction:
			r := a.GetListRestrictions()
			s += fmt.Sprintf(" labels=%q fields=%q", r.Labels.String(), r.Fields.String())
		}
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

// TestRequestsDoNotGrowWithCluster pins the exact requests of a trace: the
// same for a cluster of 4 and of 400 pods (only the nodes involved grow).
func TestRequestsDoNotGrowWithCluster(t *testing.T) {
	want := []string{
		`get nodes ns="" name=node-0`,
		`get nodes ns="" name=node-1`,
		`get services ns="default" name=web`,
		`get services ns="kube-system" name=kube-dns`,
		`list endpointslices ns="default" labels="kubernetes.io/service-name=web" fields=""`,
		`list events ns="default" labels="" fields="involvedObject.kind=Pod,type=Warning"`,
		`list events ns="default" labels="" fields="involvedObject.kind=Service,involvedObject.name=web"`,
		`list networkpolicies ns="default" labels="" fields=""`,
		`list pods ns="default" labels="app=web" fields=""`,
	}
	for _, n := range []int{4, 400} {
		c := cluster(n)
		if _, err := (Fetcher{Client: API(c)}).Fetch(context.Background(), "default", "web"); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, actionStrings(c)); diff != "" {
			t.Errorf("%d pods: requests (-want +got):\n%s", n, diff)
		}
	}
}

func TestMissingServiceReadsSuggestions(t *testing.T) {
	c := cluster(2)
	in, err := (Fetcher{Client: API(c)}).Fetch(context.Background(), "default", "wbe")
	if err != nil {
		t.Fatal(err)
	}
	if in.Service != nil || !slices.Contains(in.SimilarServices, "web") {
		t.Errorf("service=%v similar=%v, want nil and web among similar", in.Service, in.SimilarServices)
	}
	want := []string{
		`get services ns="default" name=wbe`,
		`get services ns="kube-system" name=kube-dns`,
		`list endpointslices ns="default" labels="kubernetes.io/service-name=wbe" fields=""`,
		`list events ns="default" labels="" fields="involvedObject.kind=Service,involvedObject.name=wbe"`,
		`list services ns="" labels="" fields="metadata.name=wbe"`,
		`list services ns="default" labels="" fields=""`,
	}
	if diff := cmp.Diff(want, actionStrings(c)); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
}

func forbid(c *fake.Clientset, verb, resource string) {
	c.PrependReactor(verb, resource, func(a k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(schema.GroupResource{Resource: resource}, "", fmt.Errorf("RBAC: access denied"))
	})
}

func TestForbiddenReadsBecomeGaps(t *testing.T) {
	c := cluster(2)
	forbid(c, "list", "pods")
	forbid(c, "get", "nodes")
	in, err := (Fetcher{Client: API(c)}).Fetch(context.Background(), "default", "web")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"list pods in default", "get nodes in "}
	var got []string
	for _, g := range in.Gaps {
		if !g.Forbidden {
			t.Errorf("gap %+v not marked forbidden", g)
		}
		got = append(got, g.Verb+" "+g.Resource+" in "+g.Namespace)
	}
	slices.Sort(want)
	slices.Sort(got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("gaps (-want +got):\n%s", diff)
	}
}

func TestForbiddenServiceStopsTheTrace(t *testing.T) {
	c := cluster(1)
	forbid(c, "get", "services")
	_, err := (Fetcher{Client: API(c)}).Fetch(context.Background(), "default", "web")
	want := `forbidden to get service "web" in namespace "default": check kubectl auth can-i get services -n default, and deploy/clusterrole.yaml for what svctrace needs`
	if err == nil || err.Error() != want {
		t.Errorf("err = %v, want %s", err, want)
	}
}

// TestOfflineNodesMayBeAbsent: a dump without Node objects does not mean
// the nodes do not exist (one with Nodes does: see node-missing.yaml).
func TestOfflineNodesMayBeAbsent(t *testing.T) {
	c := fake.NewClientset(
		&corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
			Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "web"}}},
		&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web-0", Namespace: "default", Labels: map[string]string{"app": "web"}},
			Spec: corev1.PodSpec{NodeName: "node-9"}})
	for _, offline := range []bool{true, false} {
		in, err := (Fetcher{Client: API(c), Offline: offline}).Fetch(context.Background(), "default", "web")
		if err != nil {
			t.Fatal(err)
		}
		if got := len(in.MissingNodes) > 0; got == offline {
			t.Errorf("offline=%v: missing nodes %v", offline, in.MissingNodes)
		}
	}
}
