package source

import (
	"context"
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

	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web-0", Namespace: "default", Labels: map[string]string{"app": "web"}}}
	if _, err := c.CoreV1().Pods("default").Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-changes:
	case <-time.After(5 * time.Second):
		t.Fatal("no signal after a selected pod was created")
	}

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
