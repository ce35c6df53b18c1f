package main

import (
	"context"
	"errors"
	"fmt"
	"net/netip"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/svctrace/kubectl-svctrace/dataplane"
	"github.com/svctrace/kubectl-svctrace/nodeagent"
	"github.com/svctrace/kubectl-svctrace/probe"
	"github.com/svctrace/kubectl-svctrace/trace"
)

// probeSite is where --probe runs: in the --from pod, on --node, or in a
// short-lived pod in the Service's namespace.
func (o *options) probeSite(ctx context.Context, in *trace.Input) trace.ProbeSite {
	switch {
	case in.FromPod != nil:
		p := in.FromPod
		site := trace.ProbeSite{Where: "pod/" + p.Namespace + "/" + p.Name, Namespace: p.Namespace, Entry: dataplane.EntryPod, Node: p.Spec.NodeName}
		site.NodeAddr, _ = netip.ParseAddr(p.Status.HostIP)
		return site
	case o.node != "":
		site := trace.ProbeSite{Where: "node/" + o.node, Namespace: o.agent.namespace, Entry: dataplane.EntryNode, Node: o.node}
		for i := range in.Nodes {
			if in.Nodes[i].Name == o.node {
				site.NodeAddr = nodeAddress(&in.Nodes[i])
				return site
			}
		}
		// A node no selected pod runs on was not read with the rest.
		if n, err := o.client.CoreV1().Nodes().Get(ctx, o.node, metav1.GetOptions{}); err == nil {
			site.NodeAddr = nodeAddress(n)
		}
		return site
	}
	return trace.ProbeSite{Where: "a new pod in namespace " + in.Namespace, Namespace: in.Namespace, Entry: dataplane.EntryPod}
}

// nodeAddress is the node's InternalIP, else its first address.
func nodeAddress(n *corev1.Node) netip.Addr {
	var first netip.Addr
	for _, a := range n.Status.Addresses {
		ip, err := netip.ParseAddr(a.Address)
		if err != nil {
			continue
		}
		if a.Type == corev1.NodeInternalIP {
			return ip
		}
		if !first.IsValid() {
			first = ip
		}
	}
	return first
}

// probeResult is a probe that ran, kept so that a reload of the terminal
// UI reuses it instead of starting a pod per change.
type probeResult struct {
	site trace.ProbeSite
	run  *nodeagent.ProbeRun
	err  error
}

// runProbe runs the connection and DNS checks inside the cluster (once per
// invocation) and adds what they saw to in: the probe's results, and its
// DNS answers as the DNS check's, asked through the resolver configuration
// it found there.
func (o *options) runProbe(ctx context.Context, in *trace.Input) error {
	if in.Service == nil {
		return nil
	}
	if o.probed == nil {
		site := o.probeSite(ctx, in)
		opts := nodeagent.ProbeOptions{FromPod: in.FromPod, Namespace: in.Namespace, Image: o.agent.image,
			Plan: trace.ProbePlan(*in, site, o.port), Wait: o.agent.timeout}
		if in.FromPod == nil && o.node != "" {
			// A host-network pod on the node, where the agent runs.
			opts.Node, opts.Namespace = o.node, o.agent.namespace
		}
		run, err := nodeagent.Probe(ctx, o.client, opts)
		if err != nil && ctx.Err() != nil {
			return ctx.Err()
		}
		if run != nil {
			site.Where, site.Node = run.Where, run.Node
		}
		o.probed = &probeResult{site: site, run: run, err: err}
	}
	p := o.probed
	if p.err != nil {
		in.Probe = &trace.ProbeObservation{Site: p.site, Err: p.err}
		return nil
	}
	rep := p.run.Report
	in.Probe = &trace.ProbeObservation{Site: p.site, Report: rep}
	switch {
	case rep.ResolvConf != nil:
		in.DNSClient = &trace.DNSClient{Where: p.site.Where, Namespace: p.site.Namespace, ResolvConf: *rep.ResolvConf}
		probeDNS(ctx, probe.NewReplay(rep), rep.Server, in)
	case rep.ResolvConfErr != "":
		in.DNS = &trace.DNSObservation{Err: fmt.Errorf("the probe in %s could not read its resolver configuration: %s", p.site.Where, rep.ResolvConfErr)}
	}
	return nil
}

// dnsFromOutside is the finding for --dns on a machine outside the
// cluster: the kube-dns ClusterIP routes nowhere from there, and a query
// sent anyway leaves by the default route to whatever answers.
func dnsFromOutside(in *trace.Input) trace.Finding {
	addr := "the cluster DNS Service"
	if in.KubeDNS != nil && in.KubeDNS.Spec.ClusterIP != "" {
		addr = in.KubeDNS.Spec.ClusterIP
	}
	return trace.Finding{ID: trace.DNSNotAskedFromOutside, Severity: trace.SeverityInfo, Subject: "dns/" + addr,
		Message: fmt.Sprintf("DNS was not asked: %s is a cluster-internal address, not routable from this machine, and the answers a pod gets can only be seen from inside", addr),
		Hint:    "add --probe to ask from inside the cluster (from the --from pod, --node, or a short-lived pod), or --dns-server ADDR for a server this machine can reach"}
}

// errProbeOffline refuses --probe without a live cluster.
var errProbeOffline = errors.New("--probe runs its checks inside a live cluster: drop -f/--demo")
