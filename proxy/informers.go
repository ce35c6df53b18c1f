package proxy

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	discoverylisters "k8s.io/client-go/listers/discovery/v1"
	networkinglisters "k8s.io/client-go/listers/networking/v1"
	"k8s.io/client-go/tools/cache"
)

// API is a Source following an API server with informers, like
// kube-proxy: Services and EndpointSlices through the label selector, and
// this node alone through a field selector.
type API struct {
	Client   kubernetes.Interface
	Node     string
	Selector labels.Selector
	// ServiceCIDRs also follows the cluster's ServiceCIDRs, as kube-proxy
	// does in nftables mode.
	ServiceCIDRs bool

	services corelisters.ServiceLister
	slices   discoverylisters.EndpointSliceLister
	nodes    corelisters.NodeLister
	cidrs    networkinglisters.ServiceCIDRLister
}

// Start implements Source.
func (a *API) Start(ctx context.Context, changed func(Kind)) error {
	byLabel := informers.NewSharedInformerFactoryWithOptions(a.Client, 0,
		informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.LabelSelector = a.Selector.String() }))
	byName := informers.NewSharedInformerFactoryWithOptions(a.Client, 0,
		informers.WithTweakListOptions(func(o *metav1.ListOptions) {
			o.FieldSelector = fields.OneTermEqualSelector("metadata.name", a.Node).String()
		}))
	all := informers.NewSharedInformerFactory(a.Client, 0)
	svc := byLabel.Core().V1().Services()
	eps := byLabel.Discovery().V1().EndpointSlices()
	node := byName.Core().V1().Nodes()
	a.services, a.slices, a.nodes = svc.Lister(), eps.Lister(), node.Lister()
	watched := map[cache.SharedIndexInformer]Kind{svc.Informer(): ServiceChanged, eps.Informer(): EndpointsChanged, node.Informer(): NodeChanged}
	if a.ServiceCIDRs {
		cidrs := all.Networking().V1().ServiceCIDRs()
		a.cidrs = cidrs.Lister()
		watched[cidrs.Informer()] = ServiceChanged
	}
	for inf, kind := range watched {
		k := kind
		notify := func(any) { changed(k) }
		if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
			AddFunc: notify, DeleteFunc: notify,
			UpdateFunc: func(_, n any) { notify(n) },
		}); err != nil {
			return fmt.Errorf("watch the API: %w", err)
		}
	}
	for _, f := range []informers.SharedInformerFactory{byLabel, byName, all} {
		f.Start(ctx.Done())
	}
	for _, f := range []informers.SharedInformerFactory{byLabel, byName, all} {
		for typ, ok := range f.WaitForCacheSync(ctx.Done()) {
			if !ok {
				return fmt.Errorf("list %v from the API server failed (check the kubeconfig and RBAC: list/watch services, endpointslices, nodes, and servicecidrs in nftables mode)", typ)
			}
		}
	}
	return nil
}

// Objects implements Source.
func (a *API) Objects() Objects {
	var out Objects
	svcs, _ := a.services.List(labels.Everything())
	out.Services = append([]*corev1.Service{}, svcs...)
	slices, _ := a.slices.List(labels.Everything())
	out.Slices = append([]*discoveryv1.EndpointSlice{}, slices...)
	if n, err := a.nodes.Get(a.Node); err == nil {
		out.Node = n
	}
	if a.cidrs != nil {
		cidrs, _ := a.cidrs.List(labels.Everything())
		out.ServiceCIDRs = ServiceCIDRsOf(cidrs)
	}
	return out
}
