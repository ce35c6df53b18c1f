// Package source reads the neighbourhood of one Service into a trace.Input:
// from the Kubernetes API, from informer caches, or from files decoded into
// an indexed Store, all behind Cluster.
package source

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"golang.org/x/sync/errgroup"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/svctrace/kubectl-svctrace/trace"
)

// Fetcher reads what a trace needs with requests that do not grow with the
// cluster: the Service's neighbourhood, and one GET per node it uses.
type Fetcher struct {
	Client Cluster
	// FromPod, "namespace/name", is a pod to explain DNS from; optional.
	FromPod string
	// Node is a node to read besides those the pods and endpoints name:
	// the one whose dataplane is traced (--node).
	Node string
	// Offline is set for input read from files: a Node absent there is
	// unknown, not missing from the cluster.
	Offline bool
}

// reader collects results and gaps from concurrent requests.
type reader struct {
	mu   sync.Mutex
	in   trace.Input
	gaps []trace.Gap
}

// gap records a failed read so the trace goes on without it and says what
// it could not check. Only a cancelled or expired context stops the trace:
// the Service itself was readable, so the API server answers.
func (r *reader) gap(verb, resource, ns string, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s %s in namespace %q: %w", verb, resource, ns, err)
	}
	g := trace.Gap{Verb: verb, Resource: resource, Namespace: ns, Reason: err.Error()}
	if apierrors.IsForbidden(err) {
		g.Reason, g.Forbidden = "forbidden", true
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.gaps = append(r.gaps, g)
	return nil
}

// Fetch reads Service ns/name and its neighbourhood.
func (f Fetcher) Fetch(ctx context.Context, ns, name string) (*trace.Input, error) {
	r := &reader{in: trace.Input{Namespace: ns, Name: name}}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return r.service(gctx, f.Client, ns, name) })
	g.Go(func() error { return r.slices(gctx, f.Client, ns, name) })
	g.Go(func() error { return r.events(gctx, f.Client, ns, name) })
	g.Go(func() error { return r.kubeDNS(gctx, f.Client) })
	if f.FromPod != "" {
		g.Go(func() error { return r.fromPod(gctx, f.Client, f.FromPod) })
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	if r.in.Service == nil {
		if err := r.suggestions(ctx, f.Client, ns, name); err != nil {
			return nil, err
		}
		r.in.Gaps = r.gaps
		return &r.in, nil
	}
	if err := r.pods(ctx, f.Client, ns, f.Offline); err != nil {
		return nil, err
	}
	if err := r.podEvents(ctx, f.Client, ns); err != nil {
		return nil, err
	}
	if err := r.networkPolicies(ctx, f.Client, ns); err != nil {
		return nil, err
	}
	extra := []string{f.Node}
	if r.in.FromPod != nil {
		extra = append(extra, r.in.FromPod.Spec.NodeName)
	}
	if err := r.nodes(ctx, f.Client, extra, f.Offline); err != nil {
		return nil, err
	}
	sort.Slice(r.gaps, func(i, j int) bool { return r.gaps[i].Resource < r.gaps[j].Resource })
	r.in.Gaps = r.gaps
	return &r.in, nil
}

// ServiceForbiddenError means the Service itself could not be read, so no
// trace is possible.
type ServiceForbiddenError struct{ Namespace, Name string }

func (e *ServiceForbiddenError) Error() string {
	return fmt.Sprintf("forbidden to get service %q in namespace %q: check kubectl auth can-i get services -n %s, and deploy/clusterrole.yaml for what svctrace needs", e.Name, e.Namespace, e.Namespace)
}

func (r *reader) service(ctx context.Context, c Cluster, ns, name string) error {
	svc, err := c.GetService(ctx, ns, name)
	switch {
	case apierrors.IsNotFound(err):
		return nil
	case apierrors.IsForbidden(err):
		return &ServiceForbiddenError{Namespace: ns, Name: name}
	case err != nil && !isAPIStatus(err):
		return fmt.Errorf("cannot reach the API server: %w; check the cluster is up and --context/--kubeconfig point at it (kubectl cluster-info)", err)
	case err != nil:
		return fmt.Errorf("get service %q in namespace %q: %w", name, ns, err)
	}
	r.mu.Lock()
	r.in.Service = svc
	r.mu.Unlock()
	return nil
}

func (r *reader) slices(ctx context.Context, c Cluster, ns, name string) error {
	items, err := c.ListEndpointSlices(ctx, ns, name)
	if err != nil {
		return r.gap("list", "endpointslices.discovery.k8s.io", ns, err)
	}
	sort.Slice(items, func(i, j int) bool { return items[i].Name < items[j].Name })
	r.mu.Lock()
	r.in.EndpointSlices = items
	r.mu.Unlock()
	return nil
}

func (r *reader) events(ctx context.Context, c Cluster, ns, name string) error {
	f := EventFilter{Kind: "Service", Name: name}
	items, err := c.ListEvents(ctx, ns, f)
	if err != nil {
		return r.gap("list", "events", ns, err)
	}
	// Filter again: not every backend applies field selectors.
	var keep []corev1.Event
	for i := range items {
		if f.Matches(&items[i]) {
			keep = append(keep, items[i])
		}
	}
	r.mu.Lock()
	r.in.Events = keep
	r.mu.Unlock()
	return nil
}

// podEvents reads the namespace's Warning events about pods in one request
// (a request per pod would grow with the Service), when pods were selected;
// the trace keeps those of the selected pods.
func (r *reader) podEvents(ctx context.Context, c Cluster, ns string) error {
	if len(r.in.Pods) == 0 {
		return nil
	}
	f := EventFilter{Kind: "Pod", Type: corev1.EventTypeWarning}
	items, err := c.ListEvents(ctx, ns, f)
	if err != nil {
		return r.gap("list", "events", ns, err)
	}
	for i := range items {
		if f.Matches(&items[i]) {
			r.in.PodEvents = append(r.in.PodEvents, items[i])
		}
	}
	return nil
}

// kubeDNS reads the cluster DNS Service; its absence is not an error here.
func (r *reader) kubeDNS(ctx context.Context, c Cluster) error {
	svc, err := c.GetService(ctx, "kube-system", "kube-dns")
	switch {
	case apierrors.IsNotFound(err):
		return nil
	case err != nil:
		return r.gap("get", "services", "kube-system", err)
	}
	r.mu.Lock()
	r.in.KubeDNS = svc
	r.mu.Unlock()
	return nil
}

// fromPod reads the pod a DNS search path is explained from.
func (r *reader) fromPod(ctx context.Context, c Cluster, nsName string) error {
	ns, name, _ := strings.Cut(nsName, "/")
	pod, err := c.GetPod(ctx, ns, name)
	switch {
	case apierrors.IsNotFound(err):
		return fmt.Errorf("--from pod/%s: pod not found in namespace %q; list them with kubectl get pods -n %s", name, ns, ns)
	case err != nil:
		return r.gap("get", "pods", ns, err)
	}
	r.mu.Lock()
	r.in.FromPod = pod
	r.mu.Unlock()
	return nil
}

// isAPIStatus tells an answer from the API server (an error status) from a
// failure to get one (connection refused, TLS, timeout).
func isAPIStatus(err error) bool {
	var st apierrors.APIStatus
	return errors.As(err, &st)
}
