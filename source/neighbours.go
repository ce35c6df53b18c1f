package source

import (
	"context"
	"fmt"
	"sort"

	"golang.org/x/sync/errgroup"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/labels"
)

// pods lists the pods the selector matches; when none match it lists the
// namespace's pods once more to explain the near misses.
func (r *reader) pods(ctx context.Context, c Cluster, ns string, offline bool) error {
	sel := r.in.Service.Spec.Selector
	if len(sel) == 0 || r.in.Service.Spec.Type == corev1.ServiceTypeExternalName {
		return nil
	}
	selector, err := labels.ValidatedSelectorFromSet(sel)
	if err != nil {
		return fmt.Errorf("service %s/%s has an invalid selector: %w; fix spec.selector", ns, r.in.Service.Name, err)
	}
	items, err := c.ListPods(ctx, ns, selector)
	if err != nil {
		return r.gap("list", "pods", ns, err)
	}
	sort.Slice(items, func(i, j int) bool { return items[i].Name < items[j].Name })
	r.in.Pods = items
	if len(items) > 0 {
		return nil
	}
	all, err := c.ListPods(ctx, ns, labels.Everything())
	if err != nil {
		return r.gap("list", "pods", ns, err)
	}
	r.in.NearMissPods = all
	return r.workloads(ctx, c, ns, selector, offline)
}

// nodes gets the nodes the pods and endpoints name, concurrently.
func (r *reader) nodes(ctx context.Context, c Cluster, extra []string, offline bool) error {
	names := map[string]bool{}
	for _, n := range extra {
		if n != "" {
			names[n] = true
		}
	}
	for _, p := range r.in.Pods {
		if p.Spec.NodeName != "" {
			names[p.Spec.NodeName] = true
		}
	}
	for _, s := range r.in.EndpointSlices {
		for _, e := range s.Endpoints {
			if e.NodeName != nil {
				names[*e.NodeName] = true
			}
		}
	}
	sorted := make([]string, 0, len(names))
	for n := range names {
		sorted = append(sorted, n)
	}
	sort.Strings(sorted)
	if offline {
		// A dump without any Node says nothing about the nodes; one with
		// Nodes lists them all, so an absent one does not exist.
		has, err := c.HasNodes(ctx)
		offline = err != nil || !has
	}
	nodes := make([]*corev1.Node, len(sorted))
	missing := make([]bool, len(sorted))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for i, name := range sorted {
		g.Go(func() error {
			n, err := c.GetNode(gctx, name)
			switch {
			case apierrors.IsNotFound(err):
				missing[i] = !offline
				return nil
			case err != nil:
				return r.gap("get", "nodes", "", err)
			}
			nodes[i] = n
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	for i, n := range nodes {
		switch {
		case n != nil:
			r.in.Nodes = append(r.in.Nodes, *n)
		case missing[i]:
			r.in.MissingNodes = append(r.in.MissingNodes, sorted[i])
		}
	}
	r.dedupeGaps()
	return nil
}

// dedupeGaps keeps one gap per verb and resource: a forbidden node read
// fails the same way for every node.
func (r *reader) dedupeGaps() {
	seen := map[string]bool{}
	var out = r.gaps[:0]
	for _, g := range r.gaps {
		k := g.Verb + " " + g.Resource + " " + g.Namespace
		if !seen[k] {
			seen[k] = true
			out = append(out, g)
		}
	}
	r.gaps = out
}

// suggestions reads the names needed to suggest what the user meant.
func (r *reader) suggestions(ctx context.Context, c Cluster, ns, name string) error {
	g, gctx := errgroup.WithContext(ctx)
	var similar, elsewhere []string
	g.Go(func() error {
		items, err := c.ListServices(gctx, ns, "")
		if err != nil {
			return r.gap("list", "services", ns, err)
		}
		for _, s := range items {
			similar = append(similar, s.Name)
		}
		return nil
	})
	g.Go(func() error {
		items, err := c.ListServices(gctx, "", name)
		if err != nil {
			return r.gap("list", "services", "", err)
		}
		for _, s := range items {
			if s.Name == name && s.Namespace != ns {
				elsewhere = append(elsewhere, s.Namespace)
			}
		}
		return nil
	})
	if err := g.Wait(); err != nil {
		return err
	}
	sort.Strings(similar)
	sort.Strings(elsewhere)
	r.in.SimilarServices, r.in.SameNameNamespaces = similar, elsewhere
	return nil
}
