package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/yaml"

	"github.com/svctrace/kubectl-svctrace/snapshot"
	"github.com/svctrace/kubectl-svctrace/source"
)

// saveBundle writes --save DIR: objects.yaml with the API objects a trace
// of the Service reads, and nodes/NODE.snapshot for every node snapshot,
// so that `kubectl svctrace SVC -f DIR [--node NODE]` traces it offline.
func (o *options) saveBundle(ctx context.Context) error {
	dir := o.agent.save
	if dir == "" {
		return nil
	}
	objs, err := o.bundleObjects(ctx)
	if err != nil {
		return fmt.Errorf("--save %s: %w", dir, err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "nodes"), 0o755); err != nil {
		return fmt.Errorf("--save: %w", err)
	}
	list := map[string]any{"apiVersion": "v1", "kind": "List", "items": objs}
	b, err := yaml.Marshal(list)
	if err != nil {
		return fmt.Errorf("--save: encode objects: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "objects.yaml"), b, 0o644); err != nil {
		return fmt.Errorf("--save: %w", err)
	}
	for node, s := range o.agent.snapshots {
		f, err := os.Create(filepath.Join(dir, "nodes", node+".snapshot"))
		if err != nil {
			return fmt.Errorf("--save: %w", err)
		}
		err = snapshot.Encode(f, s)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("--save: %w", err)
		}
	}
	return nil
}

// bundleObjects lists what a trace reads: the namespace's Services,
// EndpointSlices, pods and events, the nodes, cluster DNS's Service and
// EndpointSlices, the workloads, and what NetworkPolicy verdicts read.
func (o *options) bundleObjects(ctx context.Context) ([]runtime.Object, error) {
	c, ns, all := o.client, o.namespace, metav1.ListOptions{}
	var out []runtime.Object
	svcs, err := c.CoreV1().Services(ns).List(ctx, all)
	if err != nil {
		return nil, err
	}
	for i := range svcs.Items {
		out = append(out, typed(&svcs.Items[i], "v1", "Service"))
	}
	slices, err := c.DiscoveryV1().EndpointSlices(ns).List(ctx, all)
	if err != nil {
		return nil, err
	}
	if ns != "kube-system" {
		if dns, err := c.CoreV1().Services("kube-system").Get(ctx, "kube-dns", metav1.GetOptions{}); err == nil {
			out = append(out, typed(dns, "v1", "Service"))
		}
		sel := metav1.ListOptions{LabelSelector: discoveryv1.LabelServiceName + "=kube-dns"}
		if dnsSlices, err := c.DiscoveryV1().EndpointSlices("kube-system").List(ctx, sel); err == nil {
			slices.Items = append(slices.Items, dnsSlices.Items...)
		}
	}
	for i := range slices.Items {
		out = append(out, typed(&slices.Items[i], "discovery.k8s.io/v1", "EndpointSlice"))
	}
	pods, err := c.CoreV1().Pods(ns).List(ctx, all)
	if err != nil {
		return nil, err
	}
	for i := range pods.Items {
		out = append(out, typed(&pods.Items[i], "v1", "Pod"))
	}
	nodes, err := c.CoreV1().Nodes().List(ctx, all)
	if err != nil {
		return nil, err
	}
	for i := range nodes.Items {
		out = append(out, typed(&nodes.Items[i], "v1", "Node"))
	}
	// Events only add detail: a user who may not list them still saves.
	if events, err := c.CoreV1().Events(ns).List(ctx, all); err == nil {
		for i := range events.Items {
			out = append(out, typed(&events.Items[i], "v1", "Event"))
		}
	}
	// So do the workloads, which explain a selector that matches no pod.
	kinds := map[source.WorkloadKind]string{source.Deployments: "Deployment", source.StatefulSets: "StatefulSet", source.ReplicaSets: "ReplicaSet", source.DaemonSets: "DaemonSet"}
	for _, kind := range source.WorkloadKinds {
		objs, err := source.API(c).ListWorkloads(ctx, ns, kind)
		if err != nil {
			continue
		}
		for _, o := range objs {
			out = append(out, typed(o, "apps/v1", kinds[kind]))
		}
	}
	return append(out, o.bundlePolicyObjects(ctx)...), nil
}

// bundlePolicyObjects lists what NetworkPolicy verdicts read: the policies
// of the namespace and of a --from pod's, that pod, the namespaces'
// labels and the kube-dns pods. Each only adds detail: a user who may not
// read them still saves.
func (o *options) bundlePolicyObjects(ctx context.Context) []runtime.Object {
	c, all := o.client, metav1.ListOptions{}
	var out []runtime.Object
	namespaces := []string{o.namespace}
	if from := o.fromPod(); from != "" {
		fromNS, name, _ := strings.Cut(from, "/")
		if fromNS != o.namespace {
			namespaces = append(namespaces, fromNS)
			if pod, err := c.CoreV1().Pods(fromNS).Get(ctx, name, metav1.GetOptions{}); err == nil {
				out = append(out, typed(pod, "v1", "Pod"))
			}
		}
	}
	for _, ns := range namespaces {
		if list, err := c.NetworkingV1().NetworkPolicies(ns).List(ctx, all); err == nil {
			for i := range list.Items {
				out = append(out, typed(&list.Items[i], "networking.k8s.io/v1", "NetworkPolicy"))
			}
		}
	}
	for _, ns := range append(namespaces, "kube-system") {
		if n, err := c.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{}); err == nil {
			out = append(out, typed(n, "v1", "Namespace"))
		}
	}
	if o.namespace != "kube-system" {
		sel := metav1.ListOptions{LabelSelector: "k8s-app=kube-dns"}
		if pods, err := c.CoreV1().Pods("kube-system").List(ctx, sel); err == nil {
			for i := range pods.Items {
				out = append(out, typed(&pods.Items[i], "v1", "Pod"))
			}
		}
	}
	return out
}

// typed sets the kind a clientset leaves empty, so the YAML reads back.
func typed(obj runtime.Object, apiVersion, kind string) runtime.Object {
	obj.GetObjectKind().SetGroupVersionKind(schema.FromAPIVersionAndKind(apiVersion, kind))
	return obj
}
