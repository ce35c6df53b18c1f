package e2e

import (
	"context"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// setupPolicyDeniesClient makes hostnames' pods admit only pods labelled
// app=frontend, and traces from a pod labelled app=client. The local
// cluster runs no network plugin, so nothing enforces the policy: the
// trace says what the API objects mean, and so does this scenario.
func setupPolicyDeniesClient(ctx context.Context, t *testing.T, e *env) []string {
	pods := append(threePods(nil), podSpec{name: "client", labels: map[string]string{"app": "client"}})
	create(ctx, t, e.c.Client, e.ns, hostnamesService("hostnames", map[string]string{"app": "hostnames"}, intstr.FromInt32(servePort)), pods...)
	port := intstr.FromInt32(servePort)
	policy := &networkingv1.NetworkPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "only-frontend"},
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{"app": "hostnames"}},
			Ingress: []networkingv1.NetworkPolicyIngressRule{{
				From:  []networkingv1.NetworkPolicyPeer{{PodSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "frontend"}}}},
				Ports: []networkingv1.NetworkPolicyPort{{Port: &port}},
			}},
		},
	}
	if _, err := e.c.Client.NetworkingV1().NetworkPolicies(e.ns).Create(ctx, policy, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create networkpolicy %s/only-frontend: %v", e.ns, err)
	}
	waitPodsReady(ctx, t, e, 4)
	waitEndpoints(ctx, t, e.c.Client, e.ns, "hostnames", 3, 3)
	return []string{"hostnames", "-n", e.ns, "--from", "pod/client"}
}

// checkPolicyVerdicts: every endpoint is denied on its ingress side by
// the policy, and the client's egress is free.
func checkPolicyVerdicts(_ context.Context, t *testing.T, e *env, r result) {
	np := r.doc.NetworkPolicy
	if np == nil || np.Client == nil || len(np.Client.Connections) != 3 {
		t.Fatalf("networkPolicy section %+v, want the client's verdict for 3 endpoints\n%s", np, r)
	}
	for _, c := range np.Client.Connections {
		if c.Verdict != "denied" || c.Ingress.Verdict != "denied" || c.Egress.Verdict != "allowed" ||
			len(c.Ingress.Policies) != 1 || c.Ingress.Policies[0] != e.ns+"/only-frontend" {
			t.Errorf("connection to %s: %+v, want denied by %s/only-frontend on ingress only", c.Pod, c, e.ns)
		}
	}
}
