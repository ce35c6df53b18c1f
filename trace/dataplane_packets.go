package trace

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// servicePackets are the packets to walk for each port when no generated
// iptables model names them: ClusterIP for pods and nodes, NodePort and
// external addresses from outside.
func servicePackets(svc *corev1.Service, v nodeView, only string) []Packet {
	var out []Packet
	for _, sp := range svc.Spec.Ports {
		if !portSelected(only, sp.Name, int(sp.Port), int(sp.NodePort)) {
			continue
		}
		proto := strings.ToLower(string(protocolOf(sp.Protocol)))
		label := svc.Namespace + "/" + svc.Name
		if sp.Name != "" {
			label += ":" + sp.Name
		}
		add := func(from, dst string, port int32) {
			if v.from == from && dst != "" && dst != corev1.ClusterIPNone && port != 0 {
				out = append(out, Packet{Protocol: proto, Source: v.src.String(), Dest: dst, Port: port, From: from, ServicePort: label})
			}
		}
		add("pod", svc.Spec.ClusterIP, sp.Port)
		add("node", svc.Spec.ClusterIP, sp.Port)
		if len(v.ips) > 0 {
			add("external", v.ips[0].String(), sp.NodePort)
		}
		for _, ip := range svc.Spec.ExternalIPs {
			add("external", ip, sp.Port)
		}
		for _, ing := range svc.Status.LoadBalancer.Ingress {
			add("external", ing.IP, sp.Port)
		}
	}
	return out
}

// portSelected tells whether --port (empty: all) names a Service port by
// its name, its number or its node port.
func portSelected(only, name string, port, nodePort int) bool {
	return only == "" || only == name || only == fmt.Sprint(port) || (nodePort != 0 && only == fmt.Sprint(nodePort))
}

func diffMessage(msg, expected, actual string) string {
	if expected != "" {
		msg += "; expected: " + expected
	}
	if actual != "" {
		msg += "; node has: " + actual
	}
	return msg
}

// driftUnlessUnread compares only when the EndpointSlices were read: the
// expected rules of a Service whose endpoints are unknown say nothing.
func driftUnlessUnread[T any](in Input, drift func() []T) []T {
	if in.unread(slicesResource) {
		return nil
	}
	return drift()
}
