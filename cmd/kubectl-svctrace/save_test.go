package main

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
)

// A --save bundle holds the namespace's workloads, typed so that -f reads
// them back: they explain a selector that matches no pod offline too.
func TestBundleHoldsWorkloads(t *testing.T) {
	o := &options{namespace: "default", client: fake.NewClientset(
		&corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"}},
		&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"}},
		&appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: "default"}})}
	objs, err := o.bundleObjects(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]bool{}
	for _, obj := range objs {
		kinds[obj.GetObjectKind().GroupVersionKind().GroupVersion().String()+" "+obj.GetObjectKind().GroupVersionKind().Kind] = true
	}
	for _, want := range []string{"apps/v1 Deployment", "apps/v1 StatefulSet", "v1 Service"} {
		if !kinds[want] {
			t.Errorf("bundle lacks a %s; has %v", want, kinds)
		}
	}
}
