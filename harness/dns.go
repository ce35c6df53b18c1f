package harness

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/miekg/dns"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// corefile is the kubeadm default minus forwarding: queries outside the
// cluster domain fail instead of leaving the machine.
const corefile = `.:53 {
    errors
    ready :8181
    prometheus :9153
    kubernetes %s in-addr.arpa ip6.arpa {
        endpoint %s
        kubeconfig %s %s
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
        ttl 5
    }
    loadbalance
}
`

// startCoreDNS runs CoreDNS in the node namespace on port 53 and describes
// it to the API as a kubeadm cluster would: a host-network pod labelled
// k8s-app=kube-dns and the kube-dns Service at DNSServiceIP, so the
// EndpointSlice controller and kube-proxy treat it like any other service.
func (c *Cluster) startCoreDNS(ctx context.Context) error {
	path := filepath.Join(c.StateDir, "Corefile")
	text := fmt.Sprintf(corefile, ClusterDomain, c.Server, c.Kubeconfig, contextName)
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		return fmt.Errorf("write Corefile: %w", err)
	}
	if _, err := c.start(procSpec{name: "coredns", netns: c.Node.NetNS, path: c.bins.CoreDNS,
		args: []string{"-conf", path}}); err != nil {
		return err
	}
	c.DNSAddr = net.JoinHostPort(c.Node.IP.String(), "53")
	pods := c.Client.CoreV1().Pods("kube-system")
	if _, err := pods.Create(ctx, corednsPod(c.Node.Name), metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create pod kube-system/coredns: %w", err)
	}
	svcs := c.Client.CoreV1().Services("kube-system")
	if _, err := svcs.Create(ctx, kubeDNSService(), metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create service kube-system/kube-dns: %w", err)
	}
	return nil
}

func corednsPod(node string) *corev1.Pod {
	labels := map[string]string{"k8s-app": "kube-dns"}
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "coredns-" + node, Namespace: "kube-system", Labels: labels},
		Spec: corev1.PodSpec{
			NodeName:    node,
			HostNetwork: true,
			DNSPolicy:   corev1.DNSDefault,
			Containers: []corev1.Container{{
				Name:  "coredns",
				Image: "registry.k8s.io/coredns/coredns:" + CoreDNSVersion,
				Ports: []corev1.ContainerPort{
					{Name: "dns", ContainerPort: 53, Protocol: corev1.ProtocolUDP},
					{Name: "dns-tcp", ContainerPort: 53, Protocol: corev1.ProtocolTCP},
					{Name: "metrics", ContainerPort: 9153, Protocol: corev1.ProtocolTCP},
				},
				ReadinessProbe: &corev1.Probe{
					ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{
						Path: "/ready", Port: intstr.FromInt32(8181), Scheme: corev1.URISchemeHTTP,
					}},
					PeriodSeconds: 2,
				},
			}},
		},
	}
}

func kubeDNSService() *corev1.Service {
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "kube-dns", Namespace: "kube-system", Labels: map[string]string{
			"k8s-app": "kube-dns", "kubernetes.io/name": "CoreDNS",
		}},
		Spec: corev1.ServiceSpec{
			Selector:  map[string]string{"k8s-app": "kube-dns"},
			ClusterIP: DNSServiceIP,
			Ports: []corev1.ServicePort{
				{Name: "dns", Port: 53, Protocol: corev1.ProtocolUDP, TargetPort: intstr.FromInt32(53)},
				{Name: "dns-tcp", Port: 53, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromInt32(53)},
				{Name: "metrics", Port: 9153, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromInt32(9153)},
			},
		},
	}
}

// waitSettled waits until pods can be created (the default service account
// exists), every node's kube-proxy has synced its rules, and CoreDNS answers.
func (c *Cluster) waitSettled(ctx context.Context) error {
	c.mu.Lock()
	procs := append([]*process(nil), c.procs...)
	c.mu.Unlock()
	err := c.waitFor(ctx, 60*time.Second, "service account default/default", procs, func(ctx context.Context) (bool, error) {
		_, err := c.Client.CoreV1().ServiceAccounts("default").Get(ctx, "default", metav1.GetOptions{})
		return err == nil, nil
	})
	if err != nil {
		return err
	}
	for _, n := range c.Nodes {
		healthz := n.HTTPClient(2 * time.Second)
		err = c.waitFor(ctx, 60*time.Second, "kube-proxy healthz in node "+n.NetNS, procs, func(ctx context.Context) (bool, error) {
			resp, err := healthz.Get("http://127.0.0.1:10256/healthz")
			if err != nil {
				return false, nil
			}
			resp.Body.Close()
			return resp.StatusCode == 200, nil
		})
		if err != nil {
			return err
		}
	}
	want := "kubernetes.default.svc." + ClusterDomain + "."
	return c.waitFor(ctx, 60*time.Second, "CoreDNS answering "+want, procs, func(ctx context.Context) (bool, error) {
		ips, err := LookupA(ctx, c.DNSAddr, want)
		return err == nil && len(ips) == 1 && ips[0].String() == KubernetesServiceIP, nil
	})
}

// LookupA asks the DNS server at addr (host:port) for the A records of name
// over UDP and returns the addresses; an answer without records is not an
// error.
func LookupA(ctx context.Context, addr, name string) ([]net.IP, error) {
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), dns.TypeA)
	client := &dns.Client{Timeout: 2 * time.Second}
	resp, _, err := client.ExchangeContext(ctx, m, addr)
	if err != nil {
		return nil, fmt.Errorf("query %s for %s: %w", addr, name, err)
	}
	if resp.Rcode != dns.RcodeSuccess {
		return nil, fmt.Errorf("query %s for %s: %s", addr, name, dns.RcodeToString[resp.Rcode])
	}
	var ips []net.IP
	for _, rr := range resp.Answer {
		if a, ok := rr.(*dns.A); ok {
			ips = append(ips, a.A)
		}
	}
	return ips, nil
}
