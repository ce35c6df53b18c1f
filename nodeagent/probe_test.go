package nodeagent

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/svctrace/kubectl-svctrace/probe"
)

func TestProbeContainerIsUnprivileged(t *testing.T) {
	c := probeContainer("img:v1", "{}")
	sc := c.SecurityContext
	switch {
	case sc == nil || sc.Privileged != nil && *sc.Privileged:
		t.Fatal("probe container is privileged")
	case !*sc.RunAsNonRoot || *sc.AllowPrivilegeEscalation || len(sc.Capabilities.Drop) != 1 || sc.Capabilities.Drop[0] != "ALL" ||
		sc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault:
		t.Errorf("security context %+v does not meet the restricted Pod Security level", sc)
	case strings.Join(c.Args, " ") != "--probe-run {}":
		t.Errorf("args %q", c.Args)
	}
}

func TestProbeRefusalsNameTheRight(t *testing.T) {
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "client", Namespace: "shop"}}
	for _, tc := range []struct {
		name     string
		o        ProbeOptions
		verb     string
		resource string
		says     string
	}{
		{"ephemeral container", ProbeOptions{FromPod: pod}, "update", "pods", "pods/ephemeralcontainers"},
		{"new pod", ProbeOptions{Namespace: "shop"}, "create", "pods", "create/delete pods"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			client := fake.NewClientset(pod)
			forbid(client, tc.verb, tc.resource, "no")
			tc.o.Image, tc.o.Wait = "img:v1", time.Second
			_, err := Probe(context.Background(), client, tc.o)
			if err == nil || !strings.Contains(err.Error(), tc.says) {
				t.Fatalf("error %v: want one naming %q", err, tc.says)
			}
			if list, _ := client.CoreV1().Pods("shop").List(context.Background(), metav1.ListOptions{}); len(list.Items) != 1 {
				t.Errorf("%d pods left in shop, want only the client", len(list.Items))
			}
		})
	}
}

func TestProbePodIsDeletedWhenItNeverFinishes(t *testing.T) {
	client := fake.NewClientset()
	_, err := Probe(context.Background(), client, ProbeOptions{Namespace: "shop", Image: "img:v1", Wait: 600 * time.Millisecond,
		Plan: probe.Plan{Targets: []probe.Target{{Kind: probe.KindClusterIP, Protocol: "TCP"}}}})
	if err == nil || !strings.Contains(err.Error(), "did not finish") {
		t.Fatalf("error %v: want a timeout naming the pod", err)
	}
	if list, _ := client.CoreV1().Pods("shop").List(context.Background(), metav1.ListOptions{}); len(list.Items) != 0 {
		t.Errorf("probe pod left behind: %v", list.Items[0].Name)
	}
}

func TestProbePlanTooLargeForAnArgumentIsRefused(t *testing.T) {
	plan := probe.Plan{Search: []string{strings.Repeat("x", maxPlanArg)}}
	if _, err := Probe(context.Background(), fake.NewClientset(), ProbeOptions{Namespace: "shop", Plan: plan}); err == nil || !strings.Contains(err.Error(), "--port") {
		t.Fatalf("error %v: want the size refusal suggesting --port", err)
	}
}
