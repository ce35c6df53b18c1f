package trace_test

import (
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	"github.com/svctrace/kubectl-svctrace/trace"
)

// Cases where Kubernetes' own rules decide what is (not) a problem; each
// names the upstream behaviour it follows.

func svcWeb(mutate func(*corev1.Service)) *corev1.Service {
	s := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default", UID: "svc-uid"},
		Spec: corev1.ServiceSpec{
			Type: corev1.ServiceTypeClusterIP, ClusterIP: "10.96.0.20", ClusterIPs: []string{"10.96.0.20"},
			IPFamilies: []corev1.IPFamily{corev1.IPv4Protocol},
			Selector:   map[string]string{"app": "web"},
			Ports:      []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromString("http"), Protocol: corev1.ProtocolTCP}},
		},
	}
	if mutate != nil {
		mutate(s)
	}
	return s
}

func readyPod(name, node string, ips ...string) corev1.Pod {
	p := corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", Labels: map[string]string{"app": "web"}},
		Spec: corev1.PodSpec{NodeName: node, Containers: []corev1.Container{{Name: "app",
			Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}}}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: ips[0],
			Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}},
	}
	for _, ip := range ips {
		p.Status.PodIPs = append(p.Status.PodIPs, corev1.PodIP{IP: ip})
	}
	return p
}

type epState struct{ ready, serving, terminating bool }

func slice(eps map[string]epState, nodes map[string]string) discoveryv1.EndpointSlice {
	s := discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Name: "web-1", Namespace: "default", Labels: map[string]string{discoveryv1.LabelServiceName: "web"}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Ports:       []discoveryv1.EndpointPort{{Name: ptr.To("http"), Port: ptr.To[int32](8080), Protocol: ptr.To(corev1.ProtocolTCP)}},
	}
	for ip, st := range eps {
		s.Endpoints = append(s.Endpoints, discoveryv1.Endpoint{Addresses: []string{ip}, NodeName: ptr.To(nodes[ip]),
			Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(st.ready), Serving: ptr.To(st.serving), Terminating: ptr.To(st.terminating)}})
	}
	return s
}

func node(name string) corev1.Node {
	return corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name},
		Status: corev1.NodeStatus{Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}}}}
}

func findingIDs(tr *trace.Trace) []string {
	var out []string
	for _, f := range tr.Findings {
		out = append(out, f.ID)
	}
	return out
}

func TestKubernetesSemantics(t *testing.T) {
	one := map[string]epState{"10.244.1.10": {true, true, false}}
	onNode1 := map[string]string{"10.244.1.10": "node-1", "10.244.2.10": "node-2", "10.244.2.11": "node-2"}
	cases := []struct {
		name          string
		in            trace.Input
		want, notWant []string
	}{
		{
			// An RBAC-denied pod list is unknown, not empty.
			name: "forbidden pod list is no selector mismatch",
			in: trace.Input{Service: svcWeb(nil), EndpointSlices: []discoveryv1.EndpointSlice{slice(one, onNode1)},
				Gaps: []trace.Gap{{Verb: "list", Resource: "pods", Namespace: "default", Reason: "forbidden", Forbidden: true}}},
			want:    []string{"AccessDenied"},
			notWant: []string{"NoPodsMatchSelector", "EndpointsNotMatchingPods", "NoReadyEndpoints"},
		},
		{
			// endpointslice FindPort searches restartable init containers.
			name: "native sidecar port",
			in: func() trace.Input {
				p := readyPod("web-0", "node-1", "10.244.1.10")
				p.Spec.Containers[0].Ports = nil
				p.Spec.InitContainers = []corev1.Container{{Name: "proxy", RestartPolicy: ptr.To(corev1.ContainerRestartPolicyAlways),
					Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}}}}
				return trace.Input{Service: svcWeb(nil), Pods: []corev1.Pod{p}, EndpointSlices: []discoveryv1.EndpointSlice{slice(one, onNode1)}, Nodes: []corev1.Node{node("node-1")}}
			}(),
			notWant: []string{"NamedPortNotFound", "EndpointsNotMatchingPods"},
		},
		{
			// The controller publishes only the Service's IP families.
			name: "dual-stack pod behind a single-stack Service",
			in: trace.Input{Service: svcWeb(nil), Pods: []corev1.Pod{readyPod("web-0", "node-1", "10.244.1.10", "fd00:10:244:1::a")},
				EndpointSlices: []discoveryv1.EndpointSlice{slice(one, onNode1)}, Nodes: []corev1.Node{node("node-1")}},
			notWant: []string{"EndpointsNotMatchingPods"},
		},
		{
			// CategorizeEndpoints: a node without a ready local endpoint uses
			// its serving, terminating ones.
			name: "Local policy falls back to serving terminating endpoints",
			in: trace.Input{Service: svcWeb(func(s *corev1.Service) {
				s.Spec.Type, s.Spec.ExternalTrafficPolicy = corev1.ServiceTypeNodePort, corev1.ServiceExternalTrafficPolicyLocal
			}), EndpointSlices: []discoveryv1.EndpointSlice{slice(map[string]epState{
				"10.244.1.10": {true, true, false}, "10.244.2.10": {false, true, true}, "10.244.2.11": {false, false, false}}, onNode1)},
				Nodes: []corev1.Node{node("node-1"), node("node-2")}},
			notWant: []string{"NoLocalEndpoints"},
		},
		{
			// ExternallyAccessible includes a ClusterIP Service's externalIPs.
			name: "Local policy on external IPs",
			in: trace.Input{Service: svcWeb(func(s *corev1.Service) {
				s.Spec.ExternalIPs, s.Spec.ExternalTrafficPolicy = []string{"203.0.113.9"}, corev1.ServiceExternalTrafficPolicyLocal
			}), EndpointSlices: []discoveryv1.EndpointSlice{slice(map[string]epState{
				"10.244.1.10": {true, true, false}, "10.244.2.11": {false, false, false}}, onNode1)},
				Nodes: []corev1.Node{node("node-1"), node("node-2")}},
			want: []string{"NoLocalEndpoints"},
		},
		{
			// Events outlive their object: another UID is another Service.
			name: "event of an earlier Service of the same name",
			in: trace.Input{Service: svcWeb(nil), EndpointSlices: []discoveryv1.EndpointSlice{slice(one, onNode1)},
				Events: []corev1.Event{{InvolvedObject: corev1.ObjectReference{Kind: "Service", Name: "web", UID: "old-uid"},
					Type: corev1.EventTypeWarning, Reason: "FailedToUpdateEndpointSlices", Message: "boom"}}},
			notWant: []string{"EndpointSliceUpdateFailed"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.in.Namespace, tc.in.Name = "default", "web"
			got := findingIDs(trace.Build(tc.in))
			for _, id := range tc.want {
				if !slices.Contains(got, id) {
					t.Errorf("want %s in %v", id, got)
				}
			}
			for _, id := range tc.notWant {
				if slices.Contains(got, id) {
					t.Errorf("did not want %s in %v", id, got)
				}
			}
		})
	}
}
