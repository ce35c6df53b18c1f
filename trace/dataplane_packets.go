package trace

import (
	"fmt"
	"net/netip"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/svctrace/kubectl-svctrace/dataplane"
	"github.com/svctrace/kubectl-svctrace/dataplane/iptables/expected"
)

// portTargets are the addresses a Service port is reached on: what the
// packets to walk are built from.
type portTargets struct {
	// label names the port as kube-proxy's comments do ("ns/name:port").
	label                    string
	protocol                 string
	clusterIP                string
	port, nodePort           int
	externalIPs, balancerIPs []string
}

// packets chooses the packets to walk for one Service port: to the
// ClusterIP from pods and the node, to NodePorts, external and LB IPs from
// outside; only the chosen entry's packets.
func packets(pt portTargets, v nodeView) []dataplane.Packet {
	var out []dataplane.Packet
	add := func(from dataplane.Entry, dst string, port int) {
		ip, err := netip.ParseAddr(dst)
		if v.from != from || err != nil || port == 0 {
			return
		}
		out = append(out, dataplane.Packet{Protocol: pt.protocol, Source: v.src, Dest: ip, Port: uint16(port), From: from, ServicePort: pt.label})
	}
	add(dataplane.EntryPod, pt.clusterIP, pt.port)
	add(dataplane.EntryNode, pt.clusterIP, pt.port)
	if len(v.ips) > 0 {
		add(dataplane.EntryExternal, v.ips[0].String(), pt.nodePort)
	}
	for _, ip := range pt.externalIPs {
		add(dataplane.EntryExternal, ip, pt.port)
	}
	for _, ip := range pt.balancerIPs {
		add(dataplane.EntryExternal, ip, pt.port)
	}
	return out
}

// generatedTargets are the targets of a port of the generated iptables
// rules, which hold the addresses of the proxier's IP family.
func generatedTargets(sp *expected.ServicePort) portTargets {
	return portTargets{label: sp.ID, protocol: strings.ToLower(string(sp.Protocol)), clusterIP: sp.ClusterIP,
		port: sp.Port, nodePort: sp.NodePort, externalIPs: sp.ExternalIPs, balancerIPs: sp.LoadBalancerIPs}
}

// serviceTargets are the targets of the Service's ports selected by only,
// with the addresses of family (each proxier, and each nftables table,
// handles one family).
func serviceTargets(svc *corev1.Service, only string, family corev1.IPFamily) []portTargets {
	of := func(ips []string) []string {
		var out []string
		for _, s := range ips {
			if ip, err := netip.ParseAddr(s); err == nil && ip.Is6() == (family == corev1.IPv6Protocol) {
				out = append(out, s)
			}
		}
		return out
	}
	clusterIP := svc.Spec.ClusterIP
	if ips := of(svc.Spec.ClusterIPs); len(ips) > 0 && family != "" {
		clusterIP = ips[0]
	}
	var balancer []string
	for _, ing := range svc.Status.LoadBalancer.Ingress {
		balancer = append(balancer, ing.IP)
	}
	external := svc.Spec.ExternalIPs
	if family != "" {
		balancer, external = of(balancer), of(external)
	}
	var out []portTargets
	for _, sp := range svc.Spec.Ports {
		if !portSelected(only, sp.Name, int(sp.Port), int(sp.NodePort)) {
			continue
		}
		out = append(out, portTargets{label: expected.PortName(svc.Namespace, svc.Name, sp.Name), protocol: strings.ToLower(string(protocolOf(sp.Protocol))),
			clusterIP: clusterIP, port: int(sp.Port), nodePort: int(sp.NodePort), externalIPs: external, balancerIPs: balancer})
	}
	return out
}

// portSelected tells whether --port (empty: all) names a Service port by
// its name, its number or its node port.
func portSelected(only, name string, port, nodePort int) bool {
	return only == "" || only == name || only == fmt.Sprint(port) || (nodePort != 0 && only == fmt.Sprint(nodePort))
}
