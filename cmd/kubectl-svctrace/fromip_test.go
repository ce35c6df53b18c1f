package main

import (
	"encoding/json"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
)

// --from IP names the pod that has the address when one running pod of a
// pod network has it; a host-network pod's address is its node's and stays
// an address.
func TestFromIPOfAPodTracesFromThatPod(t *testing.T) {
	pod := func(ns, name, ip string, hostNet bool, phase corev1.PodPhase) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
			Spec:   corev1.PodSpec{NodeName: "node-1", HostNetwork: hostNet},
			Status: corev1.PodStatus{Phase: phase, PodIP: ip, PodIPs: []corev1.PodIP{{IP: ip}}}}
	}
	client := fake.NewClientset(
		&corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop"},
			Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeClusterIP, ClusterIP: "10.96.0.20", ClusterIPs: []string{"10.96.0.20"},
				Selector: map[string]string{"app": "web"}, Ports: []corev1.ServicePort{{Port: 80, Protocol: corev1.ProtocolTCP}}}},
		pod("other", "client-0", "10.244.1.7", false, corev1.PodRunning),
		pod("other", "done-0", "10.244.1.8", false, corev1.PodSucceeded),
		pod("other", "done-1", "10.244.1.8", false, corev1.PodRunning),
		pod("kube-system", "agent-0", "172.18.0.2", true, corev1.PodRunning),
	)
	cases := []struct {
		from, wantPod string
	}{
		{"10.244.1.7", "other/client-0"},
		// A finished pod's address is reused: the running one has it.
		{"10.244.1.8", "other/done-1"},
		{"172.18.0.2", ""},
		{"10.244.9.9", ""},
	}
	for _, tc := range cases {
		t.Run(tc.from, func(t *testing.T) {
			r := runWith(t, client, false, nil, "-n", "shop", "web", "--from", tc.from, "-o", "json")
			var out struct {
				DNS struct {
					SearchPath *struct{ Pod string } `json:"searchPath"`
				} `json:"dns"`
			}
			if err := json.Unmarshal([]byte(r.out), &out); err != nil {
				t.Fatalf("output: %v\n%s\n%s", err, r.out, r.errOut)
			}
			gotPod := ""
			if out.DNS.SearchPath != nil {
				gotPod = out.DNS.SearchPath.Pod
			}
			if gotPod != tc.wantPod {
				t.Errorf("traced from pod %q, want %q (stderr %q)", gotPod, tc.wantPod, r.errOut)
			}
			if said := strings.Contains(r.errOut, "is pod "+tc.wantPod); tc.wantPod != "" && !said {
				t.Errorf("stderr %q does not say which pod", r.errOut)
			}
		})
	}
}
