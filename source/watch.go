package source

import (
	"context"
	"maps"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	corev1informers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// Watch signals on the returned channel, at most every debounce, when the
// Service, its EndpointSlices or the pods its selector matches change. When
// the Service's selector changes, the pods it follows change with it, and
// so do the namespace's NetworkPolicies. It stops when ctx ends. Informers
// keep it to six watches whatever the cluster's size (the Service, its
// slices, its pods, the namespace's NetworkPolicies, and the events about
// it and about pods, which change too often to signal). The returned
// Cluster reads what the informers hold from their caches, and the rest
// from the API, so a trace run again on a signal lists nothing again.
func Watch(ctx context.Context, c kubernetes.Interface, ns, name string, selector map[string]string, debounce time.Duration) (<-chan struct{}, Cluster) {
	w := &watcher{c: c, ns: ns, raw: make(chan struct{}, 1)}
	// What an informer's first list adds is the state the trace started
	// from, not a change.
	handler := cache.ResourceEventHandlerDetailedFuncs{
		AddFunc: func(_ any, initial bool) {
			if !initial {
				w.poke()
			}
		},
		UpdateFunc: func(any, any) { w.poke() },
		DeleteFunc: func(any) { w.poke() },
	}
	svcF := w.factory(func(o *metav1.ListOptions) {
		o.FieldSelector = fields.OneTermEqualSelector("metadata.name", name).String()
	})
	_, _ = svcF.Core().V1().Services().Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: func(obj any) { w.followSelector(ctx, obj, handler) },
		UpdateFunc: func(_, obj any) {
			w.followSelector(ctx, obj, handler)
			w.poke()
		},
		DeleteFunc: func(any) { w.poke() },
	})
	sliceF := w.factory(func(o *metav1.ListOptions) {
		o.LabelSelector = labels.Set{discoveryv1.LabelServiceName: name}.String()
	})
	_, _ = sliceF.Discovery().V1().EndpointSlices().Informer().AddEventHandler(handler)
	w.watchPods(ctx, selector, handler)
	svcEventF := w.factory(func(o *metav1.ListOptions) {
		o.FieldSelector = EventFilter{Kind: "Service", Name: name}.fields().String()
	})
	podEventF := w.factory(func(o *metav1.ListOptions) {
		o.FieldSelector = EventFilter{Kind: "Pod", Type: corev1.EventTypeWarning}.fields().String()
	})
	policyF := w.factory(func(*metav1.ListOptions) {})
	_, _ = policyF.Networking().V1().NetworkPolicies().Informer().AddEventHandler(handler)
	cached := &watched{Cluster: API(c), w: w, name: name, policies: policyF.Networking().V1().NetworkPolicies(),
		svc: svcF.Core().V1().Services(), slices: sliceF.Discovery().V1().EndpointSlices(),
		svcEvents: svcEventF.Core().V1().Events(), podEvents: podEventF.Core().V1().Events()}
	// Informers asked for before Start are the ones the factories run.
	cached.svcEvents.Informer()
	cached.podEvents.Informer()
	factories := []informers.SharedInformerFactory{svcF, sliceF, svcEventF, podEventF, policyF}
	for _, f := range factories {
		f.Start(ctx.Done())
	}

	out := make(chan struct{})
	go func() {
		defer close(out)
		defer func() {
			for _, f := range factories {
				f.Shutdown()
			}
			w.stopPods()
		}()
		svcF.WaitForCacheSync(ctx.Done())
		sliceF.WaitForCacheSync(ctx.Done())
		for {
			select {
			case <-ctx.Done():
				return
			case <-w.raw:
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
	return out, cached
}

// watcher holds the pod informer, which is replaced when the selector changes.
type watcher struct {
	c   kubernetes.Interface
	ns  string
	raw chan struct{}

	mu       sync.Mutex
	selector map[string]string
	pods     informers.SharedInformerFactory
	podInf   corev1informers.PodInformer
	stop     context.CancelFunc
}

func (w *watcher) poke() {
	select {
	case w.raw <- struct{}{}:
	default:
	}
}

func (w *watcher) factory(tweak func(*metav1.ListOptions)) informers.SharedInformerFactory {
	return informers.NewSharedInformerFactoryWithOptions(w.c, 0, informers.WithNamespace(w.ns), informers.WithTweakListOptions(tweak))
}

// followSelector restarts the pod informer when the Service's selector
// is not the one it follows.
func (w *watcher) followSelector(ctx context.Context, obj any, h cache.ResourceEventHandler) {
	svc, ok := obj.(*corev1.Service)
	if !ok {
		return
	}
	w.mu.Lock()
	same := maps.Equal(w.selector, svc.Spec.Selector)
	w.mu.Unlock()
	if !same {
		w.stopPods()
		w.watchPods(ctx, svc.Spec.Selector, h)
	}
}

func (w *watcher) watchPods(ctx context.Context, selector map[string]string, h cache.ResourceEventHandler) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.selector = selector
	sel, err := labels.ValidatedSelectorFromSet(selector)
	if err != nil || len(selector) == 0 {
		return
	}
	podCtx, stop := context.WithCancel(ctx)
	f := w.factory(func(o *metav1.ListOptions) { o.LabelSelector = sel.String() })
	inf := f.Core().V1().Pods()
	_, _ = inf.Informer().AddEventHandler(h)
	f.Start(podCtx.Done())
	w.pods, w.podInf, w.stop = f, inf, stop
}

func (w *watcher) stopPods() {
	w.mu.Lock()
	f, stop := w.pods, w.stop
	w.pods, w.podInf, w.stop = nil, nil, nil
	w.mu.Unlock()
	if stop != nil {
		stop()
		f.Shutdown()
	}
}
