package proxy

import (
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
)

func TestAPIFollowsOnlySelectedObjects(t *testing.T) {
	own := map[string]string{LabelServiceProxyName: ProxyName}
	client := fake.NewClientset(
		svc("mine", own), svc("kube-proxys", nil),
		&discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "mine-1", Labels: map[string]string{
			LabelServiceProxyName: ProxyName, discoveryv1.LabelServiceName: "mine"}}},
		&discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "headless-1", Labels: map[string]string{
			LabelServiceProxyName: ProxyName, LabelHeadless: ""}}},
		&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node-a"}},
	)
	a := &API{Client: client, Node: "node-a", Selector: Selector(false)}
	changes := make(chan Kind, 16)
	if err := a.Start(t.Context(), func(k Kind) { changes <- k }); err != nil {
		t.Fatal(err)
	}
	objs := a.Objects()
	if len(objs.Services) != 1 || objs.Services[0].Name != "mine" || len(objs.Slices) != 1 || objs.Slices[0].Name != "mine-1" || objs.Node == nil {
		t.Fatalf("objects: %d services, %d slices, node %v; want only the labelled, non-headless ones", len(objs.Services), len(objs.Slices), objs.Node)
	}
	if _, err := client.CoreV1().Services("ns").Create(t.Context(), svc("second", own), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// Add events of the initial list may still be arriving: wait for the
	// new Service itself, then for the change report it caused.
	deadline := time.Now().Add(10 * time.Second)
	for len(a.Objects().Services) != 2 {
		if time.Now().After(deadline) {
			t.Fatalf("%d services after the create, want 2", len(a.Objects().Services))
		}
		time.Sleep(10 * time.Millisecond)
	}
	// One ServiceChanged for the listed Service, one for the new one.
	for seen := 0; seen < 2; {
		select {
		case k := <-changes:
			if k == ServiceChanged {
				seen++
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%d ServiceChanged reports, want 2 (the listed Service and the new one)", seen)
		}
	}
}

// TestAPIFollowsServiceCIDRs: with ServiceCIDRs set, the cluster's
// ServiceCIDRs are read (nftables mode drops traffic to their unallocated
// addresses), and a new one is reported as a change; without, none are.
func TestAPIFollowsServiceCIDRs(t *testing.T) {
	cidr := func(name string, cidrs ...string) *networkingv1.ServiceCIDR {
		return &networkingv1.ServiceCIDR{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: networkingv1.ServiceCIDRSpec{CIDRs: cidrs}}
	}
	client := fake.NewClientset(cidr("kubernetes", "10.96.0.0/16", "fd00:96::/108"))
	plain := &API{Client: client, Node: "node-a", Selector: Selector(false)}
	if err := plain.Start(t.Context(), func(Kind) {}); err != nil {
		t.Fatal(err)
	}
	if got := plain.Objects().ServiceCIDRs; got != nil {
		t.Errorf("ServiceCIDRs read without being asked: %v", got)
	}
	a := &API{Client: client, Node: "node-a", Selector: Selector(false), ServiceCIDRs: true}
	if err := a.Start(t.Context(), func(Kind) {}); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(a.Objects().ServiceCIDRs); got != "[10.96.0.0/16 fd00:96::/108]" {
		t.Errorf("ServiceCIDRs %s, want [10.96.0.0/16 fd00:96::/108]", got)
	}
	if _, err := client.NetworkingV1().ServiceCIDRs().Create(t.Context(), cidr("extra", "10.97.0.0/16"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(a.Objects().ServiceCIDRs) != 3 {
		if time.Now().After(deadline) {
			t.Fatalf("ServiceCIDRs after a create: %v, want 3 prefixes", a.Objects().ServiceCIDRs)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
