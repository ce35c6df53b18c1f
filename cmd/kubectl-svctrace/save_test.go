package main

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
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

// A --save bundle holds what NetworkPolicy verdicts read: the policies of
// the namespace and of the --from pod's, that pod, the namespaces' labels
// and the kube-dns pods.
func TestBundleHoldsNetworkPolicies(t *testing.T) {
	o := &options{namespace: "default", from: "pod/shop/client", client: fake.NewClientset(
		&corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"}},
		&networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: "deny", Namespace: "default"}},
		&networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: "egress", Namespace: "shop"}},
		&networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: "unrelated", Namespace: "other"}},
		&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "client", Namespace: "shop"}},
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shop"}},
		&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "coredns-0", Namespace: "kube-system", Labels: map[string]string{"k8s-app": "kube-dns"}}})}
	objs, err := o.bundleObjects(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, obj := range objs {
		m := obj.(metav1.Object)
		got[obj.GetObjectKind().GroupVersionKind().Kind+" "+m.GetNamespace()+"/"+m.GetName()] = true
	}
	for _, want := range []string{"NetworkPolicy default/deny", "NetworkPolicy shop/egress", "Pod shop/client", "Namespace /shop", "Pod kube-system/coredns-0"} {
		if !got[want] {
			t.Errorf("bundle lacks %s; has %v", want, got)
		}
	}
	if got["NetworkPolicy other/unrelated"] {
		t.Errorf("bundle holds a policy of an unrelated namespace")
	}
}
