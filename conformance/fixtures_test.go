package conformance

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

const (
	namespace = "conformance"
	// node-2 exists only in the API: kube-proxy on node-1 sends traffic for
	// its pods towards it, and Local traffic policies skip them.
	remoteNode    = "node-2"
	remoteNodeIP  = "198.51.100.2"
	remotePodBase = "10.244.2.1" // node-2's pods get the addresses after it
	// podPort and dnsPort are where every fixture pod listens.
	podPort = 9376
	dnsPort = 5353
)

// fixture is one Service, the pods behind it, and where they run.
type fixture struct {
	name string
	spec corev1.ServiceSpec // the selector is filled in by deploy
	// ingress is the status.loadBalancer.ingress IP of a LoadBalancer.
	ingress string
	// local pods run on node-1 (the harness runs and probes them); remote
	// pods are bound to node-2 and made ready through the API.
	local, remote int
}

// fixtures covers every Service shape kube-proxy programs differently.
// Addresses outside the cluster come from TEST-NET-2/3 and are never sent
// traffic: they only appear in rules and walks.
func fixtures() []fixture {
	tcp80 := []corev1.ServicePort{{Port: 80, TargetPort: intstr.FromInt32(podPort), Protocol: corev1.ProtocolTCP}}
	local := corev1.ServiceInternalTrafficPolicyLocal
	timeout := int32(600)
	return []fixture{
		{name: "one", spec: corev1.ServiceSpec{Ports: tcp80}, local: 1},
		{name: "three", local: 3, spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{
			{Name: "http", Port: 80, TargetPort: intstr.FromString("http"), Protocol: corev1.ProtocolTCP},
			{Name: "dns", Port: 53, TargetPort: intstr.FromInt32(dnsPort), Protocol: corev1.ProtocolUDP},
		}}},
		{name: "nodeport", local: 1, remote: 1, spec: corev1.ServiceSpec{Type: corev1.ServiceTypeNodePort, Ports: tcp80}},
		{name: "lb", local: 1, remote: 1, ingress: "198.51.100.10", spec: corev1.ServiceSpec{
			Type: corev1.ServiceTypeLoadBalancer, Ports: tcp80,
			LoadBalancerSourceRanges: []string{"203.0.113.0/24", "198.51.100.128/25"},
		}},
		{name: "external-ip", local: 2, spec: corev1.ServiceSpec{Ports: tcp80, ExternalIPs: []string{"198.51.100.20"}}},
		{name: "etp-local", local: 1, remote: 1, ingress: "198.51.100.30", spec: corev1.ServiceSpec{
			Type: corev1.ServiceTypeLoadBalancer, Ports: tcp80,
			ExternalTrafficPolicy: corev1.ServiceExternalTrafficPolicyLocal,
		}},
		{name: "itp-local", local: 1, remote: 1, spec: corev1.ServiceSpec{Ports: tcp80, InternalTrafficPolicy: &local}},
		{name: "affinity", local: 2, spec: corev1.ServiceSpec{
			Ports: tcp80, SessionAffinity: corev1.ServiceAffinityClientIP,
			SessionAffinityConfig: &corev1.SessionAffinityConfig{ClientIP: &corev1.ClientIPConfig{TimeoutSeconds: &timeout}},
		}},
		{name: "no-endpoints", spec: corev1.ServiceSpec{Type: corev1.ServiceTypeNodePort, Ports: tcp80}},
	}
}

// fixturePod is the pod template of every fixture: serve_hostname on a
// named TCP port plus a UDP port, with a readiness probe the harness runs.
func fixturePod(app string) *corev1.Pod {
	pod := &corev1.Pod{}
	pod.Labels = map[string]string{"app": app}
	pod.Spec.Containers = []corev1.Container{{
		Name:  "hostnames",
		Image: "registry.k8s.io/serve_hostname",
		Ports: []corev1.ContainerPort{
			{Name: "http", ContainerPort: podPort, Protocol: corev1.ProtocolTCP},
			{Name: "dns", ContainerPort: dnsPort, Protocol: corev1.ProtocolUDP},
		},
		ReadinessProbe: &corev1.Probe{
			ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{
				Path: "/healthz", Port: intstr.FromInt32(podPort),
			}},
			PeriodSeconds:    1,
			FailureThreshold: 1,
		},
	}}
	return pod
}
