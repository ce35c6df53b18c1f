package proxy

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
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
	drain(changes)
	if _, err := client.CoreV1().Services("ns").Create(t.Context(), svc("second", own), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	select {
	case k := <-changes:
		if k != ServiceChanged {
			t.Errorf("change kind %v, want ServiceChanged", k)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no change reported for a new Service")
	}
	if n := len(a.Objects().Services); n != 2 {
		t.Errorf("%d services after the create, want 2", n)
	}
}

func drain(c chan Kind) {
	for {
		select {
		case <-c:
		default:
			return
		}
	}
}
