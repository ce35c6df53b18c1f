package path

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/svctrace/kubectl-svctrace/internal/textfmt"
	"github.com/svctrace/kubectl-svctrace/trace"
)

// details lists the facts the trace holds about the selected node, as
// "name: value" lines for the detail pane.
func details(h *trace.Trace, n *node) []string {
	if n == nil {
		return nil
	}
	var d facts
	switch n.kind {
	case kindService:
		serviceFacts(&d, h)
	case kindDNS:
		d.add("zone", h.DNS.Zone)
		d.add("server", orDash(h.DNS.Server))
		d.add("checks", fmt.Sprint(len(h.DNS.Checks)))
	case kindDNSCheck:
		dnsCheckFacts(&d, h.DNS.Checks[n.ref])
	case kindSearchPath:
		searchPathFacts(&d, h.DNS.SearchPath)
	case kindPort:
		portFacts(&d, h, n.port)
	case kindSlice:
		if n.ref >= 0 {
			s := h.Slices[n.ref]
			d.add("slice", s.Name)
			d.add("addressType", s.AddressType)
			d.add("managedBy", orDash(s.ManagedBy))
			d.add("endpoints", fmt.Sprintf("%d, %d ready", s.Endpoints, s.Ready))
		}
	case kindEndpoint:
		endpointFacts(&d, h.Ports[n.port].Endpoints[n.ref])
	case kindPod:
		podFacts(&d, h, n.ref)
	case kindNode:
		nodeFacts(&d, h.Nodes[n.ref])
	default:
		d.add("", n.label)
	}
	return d
}

func dnsCheckFacts(d *facts, c trace.DNSCheck) {
	d.add("name", c.Name+" "+c.Type)
	d.add("expected", answer(c.Expected))
	if c.Queried {
		d.add("answered", answer(c.Answered))
	} else {
		d.add("answered", "not queried (offline)")
	}
}

// searchPathFacts shows the pod's resolver, the names it tries for the
// Service, and on which try each other spelling resolves.
func searchPathFacts(d *facts, sp *trace.SearchPath) {
	d.add("pod", sp.Pod)
	d.add("nameservers", strings.Join(sp.Nameservers, ","))
	d.add("search", strings.Join(sp.Searches, " "))
	d.add("ndots", fmt.Sprint(sp.Ndots))
	d.add("tries", strings.Join(sp.Tries, " → "))
	d.add("resolves", orDash(sp.Resolves))
	for _, f := range sp.Forms {
		if f.Query == sp.Query {
			continue
		}
		got := "does not reach the Service"
		if i := slices.Index(f.Tries, f.Resolves); f.Resolves != "" && i >= 0 {
			got = fmt.Sprintf("try %d of %d", i+1, len(f.Tries))
		}
		d.add(f.Query, got)
	}
}

func endpointFacts(d *facts, e trace.EndpointHop) {
	d.add("address", textfmt.HostPort(e.Address, e.Port))
	d.add("conditions", fmt.Sprintf("ready=%t serving=%t terminating=%t", e.Ready, e.Serving, e.Terminating))
	d.add("pod", orDash(e.Pod))
	d.add("node", orDash(e.Node)+"  zone "+orDash(e.Zone))
	if e.Hostname != "" {
		d.add("hostname", e.Hostname)
	}
	d.add("slice", e.Slice)
}

func nodeFacts(d *facts, nd trace.NodeHop) {
	d.add("node", nd.Name)
	d.add("ready", fmt.Sprintf("%t", nd.Ready))
	if nd.Missing {
		d.add("missing", "named by a pod or endpoint but not found")
	}
	d.add("internalIP", orDash(nd.InternalIP))
	d.add("zone", orDash(nd.Zone))
}

type facts []string

func (f *facts) add(name, value string) {
	if name == "" {
		*f = append(*f, value)
		return
	}
	*f = append(*f, name+": "+value)
}

func serviceFacts(d *facts, h *trace.Trace) {
	s := h.Service
	d.add("service", s.Namespace+"/"+s.Name)
	if !h.Found {
		d.add("", "not found")
		return
	}
	d.add("type", s.Type)
	if len(s.ClusterIPs) > 0 {
		d.add("clusterIPs", strings.Join(s.ClusterIPs, ","))
	}
	if s.ExternalName != "" {
		d.add("externalName", s.ExternalName)
	}
	d.add("selector", orDash(trace.SelectorString(s.Selector)))
	if len(s.ExternalIPs) > 0 {
		d.add("externalIPs", strings.Join(s.ExternalIPs, ","))
	}
	if len(s.LoadBalancerIPs) > 0 {
		d.add("loadBalancerIPs", strings.Join(s.LoadBalancerIPs, ","))
	}
	d.add("sessionAffinity", orDash(s.SessionAffinity))
	d.add("trafficPolicy", fmt.Sprintf("external=%s internal=%s", orDash(s.ExternalTrafficPolicy), orDash(s.InternalTrafficPolicy)))
	if s.PublishNotReadyAddresses {
		d.add("publishNotReadyAddresses", "true")
	}
}

func portFacts(d *facts, h *trace.Trace, i int) {
	p := h.Ports[i]
	d.add("port", portName(p))
	d.add("targetPort", p.TargetPort)
	if p.NodePort != 0 {
		d.add("nodePort", fmt.Sprint(p.NodePort))
	}
	d.add("endpoints", fmt.Sprintf("%d, %d ready", len(p.Endpoints), p.ReadyEndpoints()))
	if len(p.Resolved) > 0 {
		pods := make([]string, 0, len(p.Resolved))
		for pod := range p.Resolved {
			pods = append(pods, pod)
		}
		sort.Strings(pods)
		var parts []string
		for _, pod := range pods {
			parts = append(parts, fmt.Sprintf("%s=%d", pod, p.Resolved[pod]))
		}
		d.add("targetPort resolves on", strings.Join(parts, " "))
	}
}

func podFacts(d *facts, h *trace.Trace, i int) {
	p := h.Pods[i]
	d.add("pod", p.Name)
	d.add("phase", fmt.Sprintf("%s  ready=%t  restarts=%d", p.Phase, p.Ready, p.Restarts))
	if p.Reason != "" {
		d.add("reason", p.Reason)
	}
	if p.Terminating {
		d.add("terminating", "true")
	}
	d.add("ips", orDash(strings.Join(p.IPs, ",")))
	d.add("node", orDash(p.Node))
	// The port a named targetPort resolves to is the pod's container port
	// that the Service uses.
	for _, port := range h.Ports {
		if n, ok := port.Resolved[p.Name]; ok {
			d.add("container port", fmt.Sprintf("%d (targetPort %s of %s)", n, port.TargetPort, portName(port)))
		}
	}
	d.add("labels", orDash(trace.SelectorString(p.Labels)))
	var conds []string
	for _, c := range p.Conditions {
		s := c.Type + "=" + c.Status
		if c.Reason != "" {
			s += " (" + c.Reason + ")"
		}
		conds = append(conds, s)
	}
	d.add("conditions", orDash(strings.Join(conds, ", ")))
	var ports []string
	for _, cp := range p.ContainerPorts {
		s := fmt.Sprintf("%s %d/%s", cp.Container, cp.Port, cp.Protocol)
		if cp.Name != "" {
			s = fmt.Sprintf("%s %s=%d/%s", cp.Container, cp.Name, cp.Port, cp.Protocol)
		}
		ports = append(ports, s)
	}
	d.add("declared ports", orDash(strings.Join(ports, ", ")))
	for _, e := range p.Events {
		d.add("event", fmt.Sprintf("%s x%d, last %s: %s", e.Reason, e.Count, e.Last, e.Message))
	}
}
