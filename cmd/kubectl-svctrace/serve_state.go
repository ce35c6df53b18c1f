package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"

	"github.com/svctrace/kubectl-svctrace/proxy"
	"github.com/svctrace/kubectl-svctrace/render"
	"github.com/svctrace/kubectl-svctrace/source"
	"github.com/svctrace/kubectl-svctrace/trace"
)

// nodeDump reads what the mode programmed, as the trace reads a node's
// dumps of those kinds (iptables-save and ip6tables-save on a dual-stack
// node).
type nodeDump func(ctx context.Context) ([]dumpPart, error)

// dumpPart is one dump of a node.
type dumpPart struct {
	kind source.DumpKind
	data []byte
}

// serveState answers /debug/state?service=NS/NAME with the trace's own
// dataplane hop of that Service: trace.Build from the objects --serve
// programs from and the node's dump read now, written by
// render.DataplaneJSON (the dataplane part of `-o json`). Expected and
// programmed are compared by the same code as `kubectl svctrace SVC
// --iptables-save DUMP`.
func serveState(node string, cidrs clusterCIDRs, dump nodeDump) proxy.StateFunc {
	return func(ctx context.Context, objs proxy.Objects, namespace, name string) ([]byte, error) {
		in := trace.Input{Namespace: namespace, Name: name,
			Dataplane: &trace.DataplaneInput{Node: node}}
		for _, s := range objs.Services {
			if s.Namespace == namespace && s.Name == name {
				in.Service = s
			}
		}
		if in.Service == nil {
			return nil, fmt.Errorf("service %s/%s: %w (missing, or outside the label selector --serve follows)", namespace, name, proxy.ErrNotServed)
		}
		for _, s := range objs.Slices {
			if s.Namespace == namespace && s.Labels[discoveryv1.LabelServiceName] == name {
				in.EndpointSlices = append(in.EndpointSlices, *s)
			}
		}
		if objs.Node != nil {
			in.Nodes = []corev1.Node{*objs.Node}
		}
		in.Dataplane.ClusterCIDR = cidrs.first()
		parts, err := dump(ctx)
		if err != nil {
			return nil, fmt.Errorf("read the node's rules: %w", err)
		}
		for _, p := range parts {
			if err := source.ParseDump(p.kind, "node "+node+" (live)", p.data, in.Dataplane); err != nil {
				return nil, err
			}
		}
		var out bytes.Buffer
		if err := render.DataplaneJSON(&out, trace.Build(in)); err != nil {
			return nil, err
		}
		return out.Bytes(), nil
	}
}

// encodedState serves a mode's own comparison (one not yet written as a
// trace hop) as indented JSON; any error is answered 404, as before.
func encodedState(f func(ctx context.Context, objs proxy.Objects, namespace, name string) (any, error)) proxy.StateFunc {
	return func(ctx context.Context, objs proxy.Objects, namespace, name string) ([]byte, error) {
		v, err := f(ctx, objs, namespace, name)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", proxy.ErrNotServed, err)
		}
		return json.MarshalIndent(v, "", "  ")
	}
}
