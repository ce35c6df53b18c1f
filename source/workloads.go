package source

import (
	"context"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// workloads reads, once the selector matched no pod, the namespace's
// workloads whose pod template it matches (one list per kind), and the
// Warning events of the kinds that hold one: FailedCreate says that a
// quota or an admission webhook refused the pods. A forbidden list is a
// gap, like every other read. Offline, a dump without any workload of the
// namespace may have been made without them, so they count as not listed.
func (r *reader) workloads(ctx context.Context, c Cluster, ns string, sel labels.Selector, offline bool) error {
	matches := func(t corev1.PodTemplateSpec) bool { return sel.Matches(labels.Set(t.Labels)) }
	w := &r.in.Workloads
	w.Listed = !offline
	events := map[string]bool{}
	for _, kind := range WorkloadKinds {
		objs, err := c.ListWorkloads(ctx, ns, kind)
		if err != nil {
			if err := r.gap("list", string(kind), ns, err); err != nil {
				return err
			}
			continue
		}
		// A dump with workloads of the namespace was made with them.
		w.Listed = w.Listed || len(objs) > 0
		for _, o := range objs {
			switch o := o.(type) {
			case *appsv1.Deployment:
				if matches(o.Spec.Template) {
					w.Deployments = append(w.Deployments, *o)
					events["ReplicaSet"] = true // its ReplicaSets create the pods
				}
			case *appsv1.StatefulSet:
				if matches(o.Spec.Template) {
					w.StatefulSets = append(w.StatefulSets, *o)
					events["StatefulSet"] = true
				}
			case *appsv1.ReplicaSet:
				if matches(o.Spec.Template) {
					w.ReplicaSets = append(w.ReplicaSets, *o)
					events["ReplicaSet"] = true
				}
			case *appsv1.DaemonSet:
				if matches(o.Spec.Template) {
					w.DaemonSets = append(w.DaemonSets, *o)
					events["DaemonSet"] = true
				}
			}
		}
	}
	for _, kind := range []string{"ReplicaSet", "StatefulSet", "DaemonSet"} {
		if !events[kind] {
			continue
		}
		f := EventFilter{Kind: kind, Type: corev1.EventTypeWarning}
		items, err := c.ListEvents(ctx, ns, f)
		if err != nil {
			if err := r.gap("list", "events", ns, err); err != nil {
				return err
			}
			continue
		}
		for i := range items {
			if f.Matches(&items[i]) {
				w.Events = append(w.Events, items[i])
			}
		}
	}
	return nil
}
