package main

import (
	"context"
	"fmt"
	"net/netip"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
)

// resolveFromIP turns --from IP into the pod that has that address, when
// exactly one running pod of a pod network has it: the trace then follows
// that client as a pod (its node's rules, its resolver, the policies that
// select it) rather than as an address only ipBlocks match. A list the
// user may not make, or an address no pod has, leaves --from an address.
func (o *options) resolveFromIP(ctx context.Context) {
	ip, err := netip.ParseAddr(o.from)
	if err != nil || !o.live() || o.client == nil {
		return
	}
	sel := fields.OneTermEqualSelector("status.podIP", ip.String()).String()
	pods, err := o.client.CoreV1().Pods(metav1.NamespaceAll).List(ctx, metav1.ListOptions{FieldSelector: sel})
	if err != nil {
		return
	}
	var match []corev1.Pod
	for _, p := range pods.Items {
		if hasPodIP(&p, ip) && !p.Spec.HostNetwork && p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed {
			match = append(match, p)
		}
	}
	if len(match) != 1 {
		return
	}
	p := match[0]
	o.from = "pod/" + p.Namespace + "/" + p.Name
	fmt.Fprintf(o.streams.ErrOut, "svctrace: --from %s is pod %s/%s: tracing from that pod\n", ip, p.Namespace, p.Name)
}

func hasPodIP(p *corev1.Pod, ip netip.Addr) bool {
	for _, a := range p.Status.PodIPs {
		if got, err := netip.ParseAddr(a.IP); err == nil && got == ip {
			return true
		}
	}
	got, err := netip.ParseAddr(p.Status.PodIP)
	return err == nil && got == ip
}
