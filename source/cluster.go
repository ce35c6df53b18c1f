package source

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
)

// Cluster is what a trace reads: the API server (API), an offline Store
// filled from files, or informer caches (Watch). Errors are API statuses
// (not found, forbidden) whatever the backend, so gaps read the same.
type Cluster interface {
	GetService(ctx context.Context, ns, name string) (*corev1.Service, error)
	// ListServices lists the Services of ns ("" for every namespace), only
	// those called name when name is set. It serves suggestions: offline,
	// the Services not traced may hold only their metadata.
	ListServices(ctx context.Context, ns, name string) ([]corev1.Service, error)
	ListEndpointSlices(ctx context.Context, ns, service string) ([]discoveryv1.EndpointSlice, error)
	// ListEvents lists the events of ns that f selects.
	ListEvents(ctx context.Context, ns string, f EventFilter) ([]corev1.Event, error)
	// ListPods lists the pods of ns sel matches. With labels.Everything()
	// it serves near misses: offline, the pods the Service's selector does
	// not match may hold only their metadata.
	ListPods(ctx context.Context, ns string, sel labels.Selector) ([]corev1.Pod, error)
	GetPod(ctx context.Context, ns, name string) (*corev1.Pod, error)
	GetNode(ctx context.Context, name string) (*corev1.Node, error)
	// HasNodes tells whether any Node is known: a dump without one says
	// nothing about the nodes.
	HasNodes(ctx context.Context) (bool, error)
	// ListWorkloads lists the namespace's workloads of one kind; a trace
	// reads them only when no pod matches the Service's selector.
	ListWorkloads(ctx context.Context, ns string, kind WorkloadKind) ([]runtime.Object, error)
	// ListNetworkPolicies lists the namespace's NetworkPolicies.
	ListNetworkPolicies(ctx context.Context, ns string) ([]networkingv1.NetworkPolicy, error)
	// GetNamespace reads a namespace, for the labels a policy's
	// namespaceSelector matches.
	GetNamespace(ctx context.Context, name string) (*corev1.Namespace, error)
}

// WorkloadKind is a kind of workload that runs pods from a template.
type WorkloadKind string

// The workloads read to explain a selector that matches no pod.
const (
	Deployments  WorkloadKind = "deployments.apps"
	StatefulSets WorkloadKind = "statefulsets.apps"
	ReplicaSets  WorkloadKind = "replicasets.apps"
	DaemonSets   WorkloadKind = "daemonsets.apps"
)

// WorkloadKinds are the kinds read, in the order they are reported.
var WorkloadKinds = []WorkloadKind{Deployments, StatefulSets, DaemonSets, ReplicaSets}

// EventFilter selects events by the object they are about.
type EventFilter struct {
	Kind, Name, Type string
}

func (f EventFilter) fields() fields.Set {
	s := fields.Set{"involvedObject.kind": f.Kind}
	if f.Name != "" {
		s["involvedObject.name"] = f.Name
	}
	if f.Type != "" {
		s["type"] = f.Type
	}
	return s
}

// Matches applies the filter itself: not every backend can select by field.
func (f EventFilter) Matches(e *corev1.Event) bool {
	return e.InvolvedObject.Kind == f.Kind && (f.Name == "" || e.InvolvedObject.Name == f.Name) && (f.Type == "" || e.Type == f.Type)
}

// API reads a live cluster with one request per call, selecting on the
// server so that the requests do not grow with the cluster.
func API(c kubernetes.Interface) Cluster { return apiCluster{c} }

type apiCluster struct{ c kubernetes.Interface }

func (a apiCluster) GetService(ctx context.Context, ns, name string) (*corev1.Service, error) {
	return a.c.CoreV1().Services(ns).Get(ctx, name, metav1.GetOptions{})
}

func (a apiCluster) ListServices(ctx context.Context, ns, name string) ([]corev1.Service, error) {
	var opts metav1.ListOptions
	if name != "" {
		opts.FieldSelector = fields.OneTermEqualSelector("metadata.name", name).String()
	}
	list, err := a.c.CoreV1().Services(ns).List(ctx, opts)
	if err != nil {
		return nil, err
	}
	return list.Items, nil
}

func (a apiCluster) ListEndpointSlices(ctx context.Context, ns, service string) ([]discoveryv1.EndpointSlice, error) {
	sel := labels.Set{discoveryv1.LabelServiceName: service}.String()
	list, err := a.c.DiscoveryV1().EndpointSlices(ns).List(ctx, metav1.ListOptions{LabelSelector: sel})
	if err != nil {
		return nil, err
	}
	return list.Items, nil
}

func (a apiCluster) ListEvents(ctx context.Context, ns string, f EventFilter) ([]corev1.Event, error) {
	list, err := a.c.CoreV1().Events(ns).List(ctx, metav1.ListOptions{FieldSelector: f.fields().String()})
	if err != nil {
		return nil, err
	}
	return list.Items, nil
}

func (a apiCluster) ListPods(ctx context.Context, ns string, sel labels.Selector) ([]corev1.Pod, error) {
	var opts metav1.ListOptions
	if !sel.Empty() {
		opts.LabelSelector = sel.String()
	}
	list, err := a.c.CoreV1().Pods(ns).List(ctx, opts)
	if err != nil {
		return nil, err
	}
	return list.Items, nil
}

func (a apiCluster) GetPod(ctx context.Context, ns, name string) (*corev1.Pod, error) {
	return a.c.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
}

func (a apiCluster) GetNode(ctx context.Context, name string) (*corev1.Node, error) {
	return a.c.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
}

func (a apiCluster) ListWorkloads(ctx context.Context, ns string, kind WorkloadKind) ([]runtime.Object, error) {
	apps, opts := a.c.AppsV1(), metav1.ListOptions{}
	var list runtime.Object
	var err error
	switch kind {
	case Deployments:
		list, err = apps.Deployments(ns).List(ctx, opts)
	case StatefulSets:
		list, err = apps.StatefulSets(ns).List(ctx, opts)
	case ReplicaSets:
		list, err = apps.ReplicaSets(ns).List(ctx, opts)
	case DaemonSets:
		list, err = apps.DaemonSets(ns).List(ctx, opts)
	default:
		return nil, fmt.Errorf("unknown workload kind %q", kind)
	}
	if err != nil {
		return nil, err
	}
	return meta.ExtractList(list)
}

func (a apiCluster) ListNetworkPolicies(ctx context.Context, ns string) ([]networkingv1.NetworkPolicy, error) {
	list, err := a.c.NetworkingV1().NetworkPolicies(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	return list.Items, nil
}

func (a apiCluster) GetNamespace(ctx context.Context, name string) (*corev1.Namespace, error) {
	return a.c.CoreV1().Namespaces().Get(ctx, name, metav1.GetOptions{})
}

func (a apiCluster) HasNodes(ctx context.Context) (bool, error) {
	list, err := a.c.CoreV1().Nodes().List(ctx, metav1.ListOptions{Limit: 1})
	if err != nil {
		return false, err
	}
	return len(list.Items) > 0, nil
}
