package trace

import (
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
)

// Input is the neighbourhood of one Service, as a source read it. Every
// slice may be empty; Gaps says which reads failed so the trace can say what
// it could not check rather than report a false "nothing there".
type Input struct {
	Namespace string
	Name      string

	// Service is nil when the Service does not exist.
	Service *corev1.Service
	// EndpointSlices carry the label kubernetes.io/service-name=Name.
	EndpointSlices []discoveryv1.EndpointSlice
	// Pods are the pods the selector matches.
	Pods []corev1.Pod
	// Nodes are the nodes that the pods and endpoints name; a name missing
	// here but listed in MissingNodes was looked up and not found.
	Nodes        []corev1.Node
	MissingNodes []string
	// Events are the events whose involved object is the Service.
	Events []corev1.Event
	// PodEvents are Warning events about pods of the namespace; the trace
	// keeps the selected pods' ones.
	PodEvents []corev1.Event

	// NearMissPods are the namespace's pods, read only when the selector
	// matched nothing, to explain the miss.
	NearMissPods []corev1.Pod
	// Workloads are the namespace's workloads whose pod template the
	// selector matches, read only when it matched no pod: the one meant
	// to run the pods says why there are none.
	Workloads Workloads
	// SimilarServices are Service names in the namespace, and
	// SameNameNamespaces the namespaces that hold a Service called Name;
	// both are read only when the Service is missing.
	SimilarServices    []string
	SameNameNamespaces []string

	// ClusterDomain is the cluster's DNS zone; cluster.local when empty.
	ClusterDomain string
	// KubeDNS is the cluster DNS Service (kube-system/kube-dns), nil if absent.
	KubeDNS *corev1.Service
	// DNS is a live check's result; nil when no query was made.
	DNS *DNSObservation
	// DNSClient is the resolver configuration a probe read where it ran
	// (--probe); it replaces the one computed from FromPod's spec.
	DNSClient *DNSClient
	// Probe is what a probe inside the cluster saw; nil when none ran.
	Probe *ProbeObservation
	// FromPod is the pod the user traces from (--from pod/NAME), if any.
	FromPod *corev1.Pod
	// NetworkPolicies are the policies of the Service's namespace and, with
	// FromPod elsewhere, of FromPod's namespace.
	NetworkPolicies []networkingv1.NetworkPolicy
	// Namespaces are the namespaces whose labels a policy's
	// namespaceSelector needs (FromPod's, the Service's, kube-system); one
	// missing here was not read.
	Namespaces []corev1.Namespace
	// DNSPods are the kube-dns pods, read when FromPod's egress is
	// restricted: whether its DNS queries may leave.
	DNSPods []corev1.Pod
	// Dataplane is the node view to walk; nil shows the generated rules.
	Dataplane *DataplaneInput

	// Gaps are reads that failed (typically Forbidden).
	Gaps []Gap
}

// Workloads are Deployments, StatefulSets, ReplicaSets and DaemonSets,
// and the Warning events about the last three (FailedCreate: a quota or
// an admission webhook refused their pods).
type Workloads struct {
	Deployments  []appsv1.Deployment
	StatefulSets []appsv1.StatefulSet
	ReplicaSets  []appsv1.ReplicaSet
	DaemonSets   []appsv1.DaemonSet
	Events       []corev1.Event
	// Listed is set when the namespace's workloads were listed: offline,
	// a dump holding none says nothing about them.
	Listed bool
}

// Any reports whether some workload is held.
func (w Workloads) Any() bool {
	return len(w.Deployments)+len(w.StatefulSets)+len(w.ReplicaSets)+len(w.DaemonSets) > 0
}

// Gap is a read the source could not make.
type Gap struct {
	Verb     string `json:"verb"`
	Resource string `json:"resource"`
	// Namespace is empty for cluster-scoped reads.
	Namespace string `json:"namespace,omitempty"`
	Reason    string `json:"reason"`
	// Forbidden is true when RBAC refused the read.
	Forbidden bool `json:"forbidden"`
}

// unread reports whether the source failed to read resource (as named in
// its Gap, e.g. "pods"), so an empty list means "unknown", not "none".
func (in Input) unread(resource string) bool {
	for _, g := range in.Gaps {
		if g.Resource == resource && g.Verb == "list" {
			return true
		}
	}
	return false
}

// unreadIn reports whether the source failed to list resource in
// namespace ns (or cluster-wide).
func (in Input) unreadIn(resource, ns string) bool {
	for _, g := range in.Gaps {
		if g.Resource == resource && g.Verb == "list" && (g.Namespace == ns || g.Namespace == "") {
			return true
		}
	}
	return false
}

// unreadWorkloads reports whether some kind of workload could not be
// listed, so "no template matches" is unknown.
func (in Input) unreadWorkloads() bool {
	for _, r := range []string{"deployments.apps", "statefulsets.apps", "daemonsets.apps", "replicasets.apps"} {
		if in.unread(r) {
			return true
		}
	}
	return false
}

const (
	slicesResource   = "endpointslices.discovery.k8s.io"
	policiesResource = "networkpolicies.networking.k8s.io"
)
