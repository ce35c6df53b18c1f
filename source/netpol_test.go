package source

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
)

// policyCluster: the traced Service in default, a client in namespace
// shop whose egress a policy restricts, a policy in default admitting
// namespaces by label, and kube-dns with its pod.
func policyCluster() *fake.Clientset {
	c := cluster(1)
	objs := []runtime.Object{
		&networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
			Spec: networkingv1.NetworkPolicySpec{PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
				Ingress: []networkingv1.NetworkPolicyIngressRule{{From: []networkingv1.NetworkPolicyPeer{{NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"team": "shop"}}}}}}}},
		&networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: "deny-egress", Namespace: "shop"},
			Spec: networkingv1.NetworkPolicySpec{PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeEgress}}},
		&networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: "elsewhere", Namespace: "other"}},
		&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "client", Namespace: "shop", Labels: map[string]string{"app": "client"}}},
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shop", Labels: map[string]string{"team": "shop"}}},
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "default"}},
		&corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "kube-dns", Namespace: "kube-system"},
			Spec: corev1.ServiceSpec{Selector: map[string]string{"k8s-app": "kube-dns"}}},
		&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "coredns-0", Namespace: "kube-system", Labels: map[string]string{"k8s-app": "kube-dns"}}},
	}
	for _, o := range objs {
		if err := c.Tracker().Add(o); err != nil {
			panic(err)
		}
	}
	return c
}

func TestPoliciesOfServiceAndClientNamespaces(t *testing.T) {
	c := policyCluster()
	in, err := (Fetcher{Client: API(c), FromPod: "shop/client"}).Fetch(context.Background(), "default", "web")
	if err != nil {
		t.Fatal(err)
	}
	var policies, namespaces, dns []string
	for _, p := range in.NetworkPolicies {
		policies = append(policies, p.Namespace+"/"+p.Name)
	}
	for _, n := range in.Namespaces {
		namespaces = append(namespaces, n.Name)
	}
	for _, p := range in.DNSPods {
		dns = append(dns, p.Name)
	}
	slices.Sort(namespaces)
	got := strings.Join(policies, ",") + " | " + strings.Join(namespaces, ",") + " | " + strings.Join(dns, ",")
	if want := "default/web,shop/deny-egress | default,shop | coredns-0"; got != want {
		t.Errorf("read %s, want %s", got, want)
	}
	var reads []string
	for _, a := range actionStrings(c) {
		if strings.Contains(a, "networkpolicies") || strings.Contains(a, "namespaces") || strings.Contains(a, `ns="kube-system" labels`) {
			reads = append(reads, a)
		}
	}
	want := []string{
		`get namespaces ns="" name=default`,
		`get namespaces ns="" name=kube-system`,
		`get namespaces ns="" name=shop`,
		`list networkpolicies ns="default" labels="" fields=""`,
		`list networkpolicies ns="kube-system" labels="" fields=""`,
		`list networkpolicies ns="shop" labels="" fields=""`,
		`list pods ns="kube-system" labels="k8s-app=kube-dns" fields=""`,
	}
	slices.Sort(reads)
	if diff := cmp.Diff(want, reads); diff != "" {
		t.Errorf("policy reads (-want +got):\n%s", diff)
	}
}

func TestForbiddenPolicyReadsBecomeGaps(t *testing.T) {
	c := policyCluster()
	forbid(c, "get", "namespaces")
	in, err := (Fetcher{Client: API(c), FromPod: "shop/client"}).Fetch(context.Background(), "default", "web")
	if err != nil {
		t.Fatal(err)
	}
	if len(in.Namespaces) != 0 || len(in.Gaps) != 1 || in.Gaps[0].Resource != "namespaces" || !in.Gaps[0].Forbidden {
		t.Errorf("namespaces %v, gaps %+v; want none read and one forbidden gap", in.Namespaces, in.Gaps)
	}
	c = policyCluster()
	forbid(c, "list", "networkpolicies")
	in, err = (Fetcher{Client: API(c)}).Fetch(context.Background(), "default", "web")
	if err != nil {
		t.Fatal(err)
	}
	if len(in.NetworkPolicies) != 0 || len(in.Gaps) != 1 || in.Gaps[0].Resource != policiesResource || !in.Gaps[0].Forbidden {
		t.Errorf("policies %v, gaps %+v; want none read and one forbidden gap", in.NetworkPolicies, in.Gaps)
	}
}

// TestLoadKeepsWhatPolicyVerdictsRead: from a bundle, reading only what
// one trace needs keeps the policies, namespaces and kube-dns pods its
// NetworkPolicy verdicts read, so the trace is the whole bundle's.
func TestLoadKeepsWhatPolicyVerdictsRead(t *testing.T) {
	p := filepath.Join("..", "testdata", "scenarios", "netpol.yaml")
	all, err := LoadPaths([]string{p}, nil, "default")
	if err != nil {
		t.Fatal(err)
	}
	full := Offline(all)
	for _, c := range []struct{ svc, from string }{{"web", ""}, {"web", "locked/app-0"}, {"api", "ghost/probe-0"}, {"web", "shop/batch-0"}} {
		store, err := Load(context.Background(), []string{p}, nil, "default", Want{Namespace: "shop", Service: c.svc, FromPod: c.from})
		if err != nil {
			t.Fatal(err)
		}
		want, got := traceOf(t, full, "shop", c.svc, c.from), traceOf(t, store, "shop", c.svc, c.from)
		if !strings.Contains(want, `"networkPolicy"`) {
			t.Fatalf("%s from %q: the whole bundle's trace has no networkPolicy section", c.svc, c.from)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s from %q: trace differs from the whole bundle's (-whole +loaded):\n%s", c.svc, c.from, diff)
		}
	}
}
