package dns

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"

	corev1 "k8s.io/api/core/v1"
)

// DefaultPort is the DNS port used when an address gives none.
const DefaultPort = 53

// ServerAddr picks the server to query: flag (the value of --dns-server) when
// set, else kubeDNS's first ClusterIP on its UDP DNS port. flag may be an IP
// ("10.96.0.10", "fd00::a") or IP:port ("10.96.0.10:53", "[fd00::a]:53").
func ServerAddr(flag string, kubeDNS *corev1.Service) (string, error) {
	if flag != "" {
		return parseServerFlag(flag)
	}
	if kubeDNS == nil {
		return "", errors.New("no --dns-server given and the cluster DNS Service (kube-system/kube-dns) was not found; pass --dns-server ADDR")
	}
	ip := kubeDNS.Spec.ClusterIP
	if len(kubeDNS.Spec.ClusterIPs) > 0 {
		ip = kubeDNS.Spec.ClusterIPs[0]
	}
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return "", fmt.Errorf("service %s/%s has no usable clusterIP (%q) to query; pass --dns-server ADDR", kubeDNS.Namespace, kubeDNS.Name, ip)
	}
	return netip.AddrPortFrom(addr, dnsPort(kubeDNS)).String(), nil
}

// dnsPort prefers the port named "dns" over UDP, as the kube-dns manifests
// name it, then any UDP port, then 53.
func dnsPort(svc *corev1.Service) uint16 {
	var udp int32
	for _, p := range svc.Spec.Ports {
		if p.Protocol != corev1.ProtocolUDP && p.Protocol != "" {
			continue
		}
		if p.Port <= 0 || p.Port > 65535 {
			continue
		}
		if p.Name == "dns" {
			return uint16(p.Port)
		}
		if udp == 0 {
			udp = p.Port
		}
	}
	if udp > 0 {
		return uint16(udp)
	}
	return DefaultPort
}

func parseServerFlag(flag string) (string, error) {
	if a, err := netip.ParseAddr(flag); err == nil {
		return netip.AddrPortFrom(a, DefaultPort).String(), nil
	}
	host, port, err := net.SplitHostPort(flag)
	if err == nil {
		a, aerr := netip.ParseAddr(host)
		p, perr := strconv.ParseUint(port, 10, 16)
		if aerr == nil && perr == nil && p > 0 {
			return netip.AddrPortFrom(a, uint16(p)).String(), nil
		}
	}
	return "", fmt.Errorf("--dns-server %q is not an IP or IP:port; e.g. --dns-server 10.96.0.10:53 or --dns-server [fd00::a]:53", flag)
}
