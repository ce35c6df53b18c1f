package source

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	corelisters "k8s.io/client-go/listers/core/v1"
	discoverylisters "k8s.io/client-go/listers/discovery/v1"
	"k8s.io/client-go/tools/cache"
)

// Store holds objects read from files in client-go indexers, and serves a
// trace from them through the same listers informers fill in live mode.
type Store struct {
	services corelisters.ServiceLister
	slices   discoverylisters.EndpointSliceLister
	pods     corelisters.PodLister
	events   corelisters.EventLister
	nodes    corelisters.NodeLister
	indexers map[string]cache.Indexer
}

// NewStore returns an empty Store.
func NewStore() *Store {
	ix := map[string]cache.Indexer{}
	kinds := []string{"Service", "EndpointSlice", "Pod", "Event", "Node", "NetworkPolicy", "Namespace"}
	for _, w := range WorkloadKinds {
		kinds = append(kinds, string(w))
	}
	for _, kind := range kinds {
		ix[kind] = cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc})
	}
	return &Store{
		services: corelisters.NewServiceLister(ix["Service"]),
		slices:   discoverylisters.NewEndpointSliceLister(ix["EndpointSlice"]),
		pods:     corelisters.NewPodLister(ix["Pod"]),
		events:   corelisters.NewEventLister(ix["Event"]),
		nodes:    corelisters.NewNodeLister(ix["Node"]),
		indexers: ix,
	}
}

// Offline returns a Store holding objs, so offline input runs through the
// same Fetcher as a live cluster. Kinds a trace does not read are dropped.
func Offline(objs []runtime.Object) *Store {
	s := NewStore()
	for _, o := range objs {
		_ = s.Add(o) // typed objects always have the metadata indexing needs
	}
	return s
}

// Add stores o, replacing an object of the same kind, namespace and name.
// Objects of kinds a trace does not read are dropped.
func (s *Store) Add(o runtime.Object) error {
	ix, ok := s.indexers[storedKind(o)]
	if !ok {
		return nil
	}
	if err := ix.Add(o); err != nil {
		return fmt.Errorf("index %T: %w", o, err)
	}
	return nil
}

func storedKind(o runtime.Object) string {
	switch o.(type) {
	case *corev1.Service:
		return "Service"
	case *discoveryv1.EndpointSlice:
		return "EndpointSlice"
	case *corev1.Pod:
		return "Pod"
	case *corev1.Event:
		return "Event"
	case *corev1.Node:
		return "Node"
	case *networkingv1.NetworkPolicy:
		return "NetworkPolicy"
	case *corev1.Namespace:
		return "Namespace"
	case *appsv1.Deployment:
		return string(Deployments)
	case *appsv1.StatefulSet:
		return string(StatefulSets)
	case *appsv1.ReplicaSet:
		return string(ReplicaSets)
	case *appsv1.DaemonSet:
		return string(DaemonSets)
	}
	return ""
}

// Len is the number of objects held.
func (s *Store) Len() int {
	n := 0
	for _, ix := range s.indexers {
		n += len(ix.ListKeys())
	}
	return n
}

// GetService implements Cluster.
func (s *Store) GetService(_ context.Context, ns, name string) (*corev1.Service, error) {
	o, err := s.services.Services(ns).Get(name)
	if err != nil {
		return nil, err
	}
	return o.DeepCopy(), nil
}

// ListServices implements Cluster.
func (s *Store) ListServices(_ context.Context, ns, name string) ([]corev1.Service, error) {
	var list []*corev1.Service
	var err error
	if ns == "" {
		list, err = s.services.List(labels.Everything())
	} else {
		list, err = s.services.Services(ns).List(labels.Everything())
	}
	var out []corev1.Service
	for _, o := range list {
		if name == "" || o.Name == name {
			out = append(out, *o.DeepCopy())
		}
	}
	return out, err
}

// ListEndpointSlices implements Cluster.
func (s *Store) ListEndpointSlices(_ context.Context, ns, service string) ([]discoveryv1.EndpointSlice, error) {
	list, err := s.slices.EndpointSlices(ns).List(labels.Set{discoveryv1.LabelServiceName: service}.AsSelector())
	out := make([]discoveryv1.EndpointSlice, 0, len(list))
	for _, o := range list {
		out = append(out, *o.DeepCopy())
	}
	return out, err
}

// ListEvents implements Cluster.
func (s *Store) ListEvents(_ context.Context, ns string, f EventFilter) ([]corev1.Event, error) {
	return listEvents(s.events, ns, f)
}

func listEvents(l corelisters.EventLister, ns string, f EventFilter) ([]corev1.Event, error) {
	list, err := l.Events(ns).List(labels.Everything())
	var out []corev1.Event
	for _, o := range list {
		if f.Matches(o) {
			out = append(out, *o.DeepCopy())
		}
	}
	return out, err
}

// ListPods implements Cluster.
func (s *Store) ListPods(_ context.Context, ns string, sel labels.Selector) ([]corev1.Pod, error) {
	return listPods(s.pods, ns, sel)
}

func listPods(l corelisters.PodLister, ns string, sel labels.Selector) ([]corev1.Pod, error) {
	list, err := l.Pods(ns).List(sel)
	out := make([]corev1.Pod, 0, len(list))
	for _, o := range list {
		out = append(out, *o.DeepCopy())
	}
	return out, err
}

// GetPod implements Cluster.
func (s *Store) GetPod(_ context.Context, ns, name string) (*corev1.Pod, error) {
	o, err := s.pods.Pods(ns).Get(name)
	if err != nil {
		return nil, err
	}
	return o.DeepCopy(), nil
}

// GetNode implements Cluster.
func (s *Store) GetNode(_ context.Context, name string) (*corev1.Node, error) {
	o, err := s.nodes.Get(name)
	if err != nil {
		return nil, err
	}
	return o.DeepCopy(), nil
}

// HasNodes implements Cluster.
func (s *Store) HasNodes(context.Context) (bool, error) {
	return len(s.indexers["Node"].ListKeys()) > 0, nil
}

// ListWorkloads implements Cluster.
func (s *Store) ListWorkloads(_ context.Context, ns string, kind WorkloadKind) ([]runtime.Object, error) {
	ix, ok := s.indexers[string(kind)]
	if !ok {
		return nil, fmt.Errorf("unknown workload kind %q", kind)
	}
	items, err := ix.ByIndex(cache.NamespaceIndex, ns)
	if err != nil {
		return nil, fmt.Errorf("list %s in namespace %q: %w", kind, ns, err)
	}
	out := make([]runtime.Object, 0, len(items))
	for _, it := range items {
		out = append(out, it.(runtime.Object).DeepCopyObject())
	}
	return out, nil
}

// ListNetworkPolicies implements Cluster.
func (s *Store) ListNetworkPolicies(_ context.Context, ns string) ([]networkingv1.NetworkPolicy, error) {
	items, err := s.indexers["NetworkPolicy"].ByIndex(cache.NamespaceIndex, ns)
	if err != nil {
		return nil, fmt.Errorf("list networkpolicies in namespace %q: %w", ns, err)
	}
	out := make([]networkingv1.NetworkPolicy, 0, len(items))
	for _, it := range items {
		out = append(out, *it.(*networkingv1.NetworkPolicy).DeepCopy())
	}
	return out, nil
}

// GetNamespace implements Cluster.
func (s *Store) GetNamespace(_ context.Context, name string) (*corev1.Namespace, error) {
	o, ok, err := s.indexers["Namespace"].GetByKey(name)
	if err != nil {
		return nil, fmt.Errorf("get namespace %q: %w", name, err)
	}
	if !ok {
		return nil, apierrors.NewNotFound(corev1.Resource("namespaces"), name)
	}
	return o.(*corev1.Namespace).DeepCopy(), nil
}
