package source

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/labels"
	corev1informers "k8s.io/client-go/informers/core/v1"
	discoveryinformers "k8s.io/client-go/informers/discovery/v1"
	networkinginformers "k8s.io/client-go/informers/networking/v1"
)

// watched serves the reads its informers cover from their caches, once
// synced, and passes the others (nodes, kube-dns, suggestions, near
// misses) to the API Cluster it embeds.
type watched struct {
	Cluster
	w                    *watcher
	name                 string
	svc                  corev1informers.ServiceInformer
	slices               discoveryinformers.EndpointSliceInformer
	svcEvents, podEvents corev1informers.EventInformer
	policies             networkinginformers.NetworkPolicyInformer
}

func (c *watched) ours(ns string) bool { return ns == c.w.ns }

// GetService implements Cluster.
func (c *watched) GetService(ctx context.Context, ns, name string) (*corev1.Service, error) {
	if !c.ours(ns) || name != c.name || !c.svc.Informer().HasSynced() {
		return c.Cluster.GetService(ctx, ns, name)
	}
	o, err := c.svc.Lister().Services(ns).Get(name)
	if err != nil {
		return nil, err
	}
	return o.DeepCopy(), nil
}

// ListEndpointSlices implements Cluster.
func (c *watched) ListEndpointSlices(ctx context.Context, ns, service string) ([]discoveryv1.EndpointSlice, error) {
	if !c.ours(ns) || service != c.name || !c.slices.Informer().HasSynced() {
		return c.Cluster.ListEndpointSlices(ctx, ns, service)
	}
	list, err := c.slices.Lister().EndpointSlices(ns).List(labels.Everything())
	out := make([]discoveryv1.EndpointSlice, 0, len(list))
	for _, o := range list {
		out = append(out, *o.DeepCopy())
	}
	return out, err
}

// ListEvents implements Cluster.
func (c *watched) ListEvents(ctx context.Context, ns string, f EventFilter) ([]corev1.Event, error) {
	var inf corev1informers.EventInformer
	switch f {
	case EventFilter{Kind: "Service", Name: c.name}:
		inf = c.svcEvents
	case EventFilter{Kind: "Pod", Type: corev1.EventTypeWarning}:
		inf = c.podEvents
	}
	if !c.ours(ns) || inf == nil || !inf.Informer().HasSynced() {
		return c.Cluster.ListEvents(ctx, ns, f)
	}
	return listEvents(inf.Lister(), ns, f)
}

// ListPods implements Cluster: the pods of the selector the pod informer
// follows come from its cache.
func (c *watched) ListPods(ctx context.Context, ns string, sel labels.Selector) ([]corev1.Pod, error) {
	c.w.mu.Lock()
	inf, followed := c.w.podInf, c.w.selector
	c.w.mu.Unlock()
	same := !sel.Empty() && inf != nil && sel.String() == labels.SelectorFromSet(followed).String()
	if !c.ours(ns) || !same || !inf.Informer().HasSynced() {
		return c.Cluster.ListPods(ctx, ns, sel)
	}
	return listPods(inf.Lister(), ns, labels.Everything())
}

// ListNetworkPolicies implements Cluster: the Service's namespace's from
// the cache, another's (a client's) from the API.
func (c *watched) ListNetworkPolicies(ctx context.Context, ns string) ([]networkingv1.NetworkPolicy, error) {
	if !c.ours(ns) || !c.policies.Informer().HasSynced() {
		return c.Cluster.ListNetworkPolicies(ctx, ns)
	}
	list, err := c.policies.Lister().NetworkPolicies(ns).List(labels.Everything())
	out := make([]networkingv1.NetworkPolicy, 0, len(list))
	for _, o := range list {
		out = append(out, *o.DeepCopy())
	}
	return out, err
}
