package source

import (
	"context"
	"time"

	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// Watch signals on the returned channel, at most every debounce, when the
// Service, its EndpointSlices or the pods its selector matches change. It
// stops when ctx ends. Informers keep it to three watches whatever the
// cluster's size.
func Watch(ctx context.Context, c kubernetes.Interface, ns, name string, selector map[string]string, debounce time.Duration) <-chan struct{} {
	raw := make(chan struct{}, 1)
	poke := func() {
		select {
		case raw <- struct{}{}:
		default:
		}
	}
	handler := cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { poke() },
		UpdateFunc: func(any, any) { poke() },
		DeleteFunc: func(any) { poke() },
	}
	factory := func(tweak func(*metav1.ListOptions)) informers.SharedInformerFactory {
		return informers.NewSharedInformerFactoryWithOptions(c, 0, informers.WithNamespace(ns), informers.WithTweakListOptions(tweak))
	}
	svcF := factory(func(o *metav1.ListOptions) {
		o.FieldSelector = fields.OneTermEqualSelector("metadata.name", name).String()
	})
	_, _ = svcF.Core().V1().Services().Informer().AddEventHandler(handler)
	sliceF := factory(func(o *metav1.ListOptions) {
		o.LabelSelector = labels.Set{discoveryv1.LabelServiceName: name}.String()
	})
	_, _ = sliceF.Discovery().V1().EndpointSlices().Informer().AddEventHandler(handler)
	started := []informers.SharedInformerFactory{svcF, sliceF}
	if sel, err := labels.ValidatedSelectorFromSet(selector); err == nil && len(selector) > 0 {
		podF := factory(func(o *metav1.ListOptions) { o.LabelSelector = sel.String() })
		_, _ = podF.Core().V1().Pods().Informer().AddEventHandler(handler)
		started = append(started, podF)
	}
	for _, f := range started {
		f.Start(ctx.Done())
	}
	out := make(chan struct{})
	go func() {
		defer close(out)
		defer func() {
			for _, f := range started {
				f.Shutdown()
			}
		}()
		for _, f := range started {
			f.WaitForCacheSync(ctx.Done())
		}
		select { // the initial list is not a change
		case <-raw:
		default:
		}
		for {
			select {
			case <-ctx.Done():
				return
			case <-raw:
			}
			// Coalesce a burst (a rollout touches pods and slices together).
			select {
			case <-ctx.Done():
				return
			case <-time.After(debounce):
			}
			select {
			case out <- struct{}{}:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out
}
