package source

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
)

func TestWatchSignalsChangesOfTheSelectedPods(t *testing.T) {
	c := fake.NewClientset()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	changes, _ := Watch(ctx, c, "default", "web", map[string]string{"app": "web"}, 10*time.Millisecond)
	// Change nothing before the pod informer watches: the fake clientset
	// drops events that happen between its list and its watch.
	deadline := time.Now().Add(5 * time.Second)
	for !watching(c, "pods") {
		if time.Now().After(deadline) {
			t.Fatal("the pod informer never started watching")
		}
		time.Sleep(5 * time.Millisecond)
	}

	createSelectedPod(ctx, t, c, "web-0", changes)

	cancel()
	select {
	case _, open := <-changes:
		if open {
			t.Error("signal after the context ended")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the channel was not closed after the context ended")
	}
}

func watching(c *fake.Clientset, resource string) bool {
	for _, a := range c.Actions() {
		if a.GetVerb() == "watch" && a.GetResource().Resource == resource {
			return true
		}
	}
	return false
}

func TestWatchFollowsANewSelector(t *testing.T) {
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "wbe"}}}
	c := fake.NewClientset(svc)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	changes, _ := Watch(ctx, c, "default", "web", svc.Spec.Selector, 10*time.Millisecond)
	waitFor(t, func() bool { return watching(c, "pods") && watching(c, "services") })

	fixed := svc.DeepCopy()
	fixed.Spec.Selector = map[string]string{"app": "web"}
	if _, err := c.CoreV1().Services("default").Update(ctx, fixed, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	select { // the Service changed
	case <-changes:
	case <-time.After(5 * time.Second):
		t.Fatal("no signal for the Service's change")
	}
	waitFor(t, func() bool { return watchCount(c, "pods") >= 2 })
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web-0", Namespace: "default", Labels: map[string]string{"app": "web"}}}
	if _, err := c.CoreV1().Pods("default").Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-changes:
	case <-time.After(5 * time.Second):
		t.Fatal("no signal for a pod of the new selector")
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 5s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func watchCount(c *fake.Clientset, resource string) int {
	n := 0
	for _, a := range c.Actions() {
		if a.GetVerb() == "watch" && a.GetResource().Resource == resource {
			n++
		}
	}
	return n
}

// TestWatchedTraceListsNothingAgain: the live terminal UI traces again from
// its informers' caches; only the per-node GETs and kube-dns reach the API.
func TestWatchedTraceListsNothingAgain(t *testing.T) {
	c := cluster(3)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	changes, cached := Watch(ctx, c, "default", "web", map[string]string{"app": "web"}, 10*time.Millisecond)
	w := cached.(*watched)
	waitFor(t, func() bool {
		w.w.mu.Lock()
		pods := w.w.podInf
		w.w.mu.Unlock()
		return pods != nil && pods.Informer().HasSynced() && w.svc.Informer().HasSynced() && w.slices.Informer().HasSynced() &&
			w.svcEvents.Informer().HasSynced() && w.podEvents.Informer().HasSynced() && w.policies.Informer().HasSynced() && watching(c, "pods")
	})
	c.ClearActions()
	in, err := Fetcher{Client: cached}.Fetch(ctx, "default", "web")
	if err != nil {
		t.Fatal(err)
	}
	if in.Service == nil || len(in.Pods) != 3 || len(in.EndpointSlices) != 1 {
		t.Fatalf("service %v, %d pods, %d slices; want the Service, 3 pods, 1 slice", in.Service != nil, len(in.Pods), len(in.EndpointSlices))
	}
	for _, a := range actionStrings(c) {
		// Informers may watch again at any time; a trace must not read.
		if !strings.HasPrefix(a, "watch ") && !strings.HasPrefix(a, "get nodes") && a != `get services ns="kube-system" name=kube-dns` {
			t.Errorf("request %s: a trace again from the caches should not ask it", a)
		}
	}

	createSelectedPod(ctx, t, c, "web-new", changes)
	if in, err = (Fetcher{Client: cached}).Fetch(ctx, "default", "web"); err != nil || len(in.Pods) != 4 {
		t.Errorf("after the change: %d pods, err %v; want 4 from the cache", len(in.Pods), err)
	}
}

// createSelectedPod creates a pod the Service selects and waits for the
// signal of its change.
func createSelectedPod(ctx context.Context, t *testing.T, c *fake.Clientset, name string, changes <-chan struct{}) {
	t.Helper()
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", Labels: map[string]string{"app": "web"}}}
	if _, err := c.CoreV1().Pods("default").Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-changes:
	case <-time.After(5 * time.Second):
		t.Fatal("no signal after a selected pod was created")
	}
}
