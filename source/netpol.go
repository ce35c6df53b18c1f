package source

import (
	"context"
	"slices"
	"sort"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/svctrace/kubectl-svctrace/netpol"
)

const (
	policiesResource = "networkpolicies.networking.k8s.io"
	dnsNamespace     = "kube-system"
)

// networkPolicies reads the policies of the Service's namespace (one
// list) and, for a client elsewhere, of the client's. With a client, it
// also reads what deciding its connections needs: the labels of the
// namespaces a namespaceSelector may look at, and the kube-dns pods when
// the client's egress is restricted. Forbidden reads are gaps: a rule
// that needs what was not read stays undecided.
func (r *reader) networkPolicies(ctx context.Context, c Cluster, ns string) error {
	namespaces := []string{ns}
	client := r.in.FromPod
	if client != nil && client.Namespace != ns {
		namespaces = append(namespaces, client.Namespace)
	}
	if client != nil && !slices.Contains(namespaces, dnsNamespace) {
		// kube-system's policies decide whether the kube-dns pods admit
		// the client's queries.
		namespaces = append(namespaces, dnsNamespace)
	}
	for _, n := range namespaces {
		items, err := c.ListNetworkPolicies(ctx, n)
		if err != nil {
			if err := r.gap("list", policiesResource, n, err); err != nil {
				return err
			}
			continue
		}
		sort.Slice(items, func(i, j int) bool { return items[i].Name < items[j].Name })
		r.in.NetworkPolicies = append(r.in.NetworkPolicies, items...)
	}
	if client == nil || len(r.in.NetworkPolicies) == 0 {
		return nil
	}
	if err := r.dnsPods(ctx, c, client); err != nil {
		return err
	}
	if !anyNamespaceSelector(r.in.NetworkPolicies) {
		return nil
	}
	for _, n := range []string{ns, client.Namespace, dnsNamespace} {
		if r.in.Namespaces != nil && hasNamespace(r.in.Namespaces, n) {
			continue
		}
		o, err := c.GetNamespace(ctx, n)
		switch {
		case apierrors.IsNotFound(err):
			continue
		case err != nil:
			if err := r.gap("get", "namespaces", "", err); err != nil {
				return err
			}
			continue
		}
		r.in.Namespaces = append(r.in.Namespaces, *o)
	}
	return nil
}

// dnsPods lists the pods behind kube-dns when some policy selects the
// client for egress, or kube-system has policies: whether its DNS queries
// leave and are admitted depends on them.
func (r *reader) dnsPods(ctx context.Context, c Cluster, client *corev1.Pod) error {
	dns := r.in.KubeDNS
	if dns == nil || len(dns.Spec.Selector) == 0 {
		return nil
	}
	pod := &netpol.Pod{Namespace: client.Namespace, Labels: client.Labels}
	restricted := false
	for i := range r.in.NetworkPolicies {
		p := &r.in.NetworkPolicies[i]
		restricted = restricted || netpol.Selects(p, netpol.Egress, pod) || p.Namespace == dnsNamespace
	}
	if !restricted {
		return nil
	}
	items, err := c.ListPods(ctx, dnsNamespace, labels.SelectorFromSet(dns.Spec.Selector))
	if err != nil {
		return r.gap("list", "pods", dnsNamespace, err)
	}
	sort.Slice(items, func(i, j int) bool { return items[i].Name < items[j].Name })
	r.in.DNSPods = items
	return nil
}

func anyNamespaceSelector(policies []networkingv1.NetworkPolicy) bool {
	for _, p := range policies {
		for _, r := range p.Spec.Ingress {
			for _, peer := range r.From {
				if peer.NamespaceSelector != nil {
					return true
				}
			}
		}
		for _, r := range p.Spec.Egress {
			for _, peer := range r.To {
				if peer.NamespaceSelector != nil {
					return true
				}
			}
		}
	}
	return false
}

func hasNamespace(list []corev1.Namespace, name string) bool {
	for _, n := range list {
		if n.Name == name {
			return true
		}
	}
	return false
}
