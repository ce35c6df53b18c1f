package trace

import (
	"fmt"
	"sort"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
)

// Build turns a Service's neighbourhood into its trace: first every hop
// (the Service, its ports, slices, pods and nodes, DNS and the dataplane),
// then the checks over them. It does no I/O.
func Build(in Input) *Trace {
	t := &Trace{
		Service:   ServiceHop{Namespace: in.Namespace, Name: in.Name},
		Unchecked: in.Gaps,
	}
	t.Findings = append(t.Findings, gapFindings(in.Gaps)...)
	if in.Service == nil {
		t.Findings = append(t.Findings, notFound(in))
		SortFindings(t.Findings)
		t.emptyNotNull()
		return t
	}
	t.Found = true
	t.Service = serviceHop(in.Service)
	t.Pods = podHops(in.Pods, in.PodEvents)
	t.Nodes = nodeHops(in.Nodes, in.MissingNodes)
	t.Slices = sliceHops(in.EndpointSlices)
	t.Ports = portHops(in.Service, in.EndpointSlices, in.Pods)
	markNotServing(in, t)
	dnsHop, dnsResults := dnsHop(in)
	t.DNS = dnsHop
	dataplane, views := dataplaneHops(in, t)
	t.Dataplane = dataplane
	t.Probe = probeHop(in)
	t.NetworkPolicy = networkPolicyHop(in, t)

	// Every hop is built: the checks only read them.
	for _, check := range []func(Input, *Trace) []Finding{
		serviceKindFindings,
		selectorFindings,
		podReadinessFindings,
		portFindings,
		endpointFindings,
		eventFindings,
		localPolicyFindings,
		nodeFindings,
		skippedLinesFindings,
		probeFindings,
		proxyOwnerFindings,
		networkPolicyFindings,
	} {
		t.Findings = append(t.Findings, check(in, t)...)
	}
	t.Findings = append(t.Findings, dnsFindings(dnsResults)...)
	t.Findings = append(t.Findings, dataplaneFindings(in, t, views)...)
	t.Findings = append(t.Findings, servingPathFindings(in, t, t.Findings)...)
	SortFindings(t.Findings)
	t.emptyNotNull()
	return t
}

// emptyNotNull makes empty lists encode as [] so scripts need no null checks.
func (t *Trace) emptyNotNull() {
	if t.Ports == nil {
		t.Ports = []PortHop{}
	}
	for i := range t.Ports {
		if t.Ports[i].Endpoints == nil {
			t.Ports[i].Endpoints = []EndpointHop{}
		}
	}
	if t.Slices == nil {
		t.Slices = []SliceHop{}
	}
	if t.Pods == nil {
		t.Pods = []PodHop{}
	}
	if t.Nodes == nil {
		t.Nodes = []NodeHop{}
	}
	if t.Findings == nil {
		t.Findings = []Finding{}
	}
	if t.Unchecked == nil {
		t.Unchecked = []Gap{}
	}
}

func serviceHop(s *corev1.Service) ServiceHop {
	h := ServiceHop{
		Namespace:                s.Namespace,
		Name:                     s.Name,
		Type:                     string(s.Spec.Type),
		ExternalName:             s.Spec.ExternalName,
		ExternalIPs:              s.Spec.ExternalIPs,
		LoadBalancerSourceRanges: s.Spec.LoadBalancerSourceRanges,
		Selector:                 s.Spec.Selector,
		SessionAffinity:          string(s.Spec.SessionAffinity),
		ExternalTrafficPolicy:    string(s.Spec.ExternalTrafficPolicy),
		PublishNotReadyAddresses: s.Spec.PublishNotReadyAddresses,
	}
	if h.Type == "" {
		h.Type = string(corev1.ServiceTypeClusterIP)
	}
	if s.Spec.InternalTrafficPolicy != nil {
		h.InternalTrafficPolicy = string(*s.Spec.InternalTrafficPolicy)
	}
	for _, f := range s.Spec.IPFamilies {
		h.IPFamilies = append(h.IPFamilies, string(f))
	}
	h.ClusterIPs = s.Spec.ClusterIPs
	if len(h.ClusterIPs) == 0 && s.Spec.ClusterIP != "" {
		h.ClusterIPs = []string{s.Spec.ClusterIP}
	}
	if s.Spec.ClusterIP == corev1.ClusterIPNone {
		h.Headless = true
		h.ClusterIPs = nil
	}
	if c := s.Spec.SessionAffinityConfig; c != nil && c.ClientIP != nil && c.ClientIP.TimeoutSeconds != nil {
		h.AffinityTimeoutSeconds = *c.ClientIP.TimeoutSeconds
	} else if s.Spec.SessionAffinity == corev1.ServiceAffinityClientIP {
		h.AffinityTimeoutSeconds = corev1.DefaultClientIPServiceAffinitySeconds
	}
	for _, ing := range s.Status.LoadBalancer.Ingress {
		if ing.IP != "" {
			h.LoadBalancerIPs = append(h.LoadBalancerIPs, ing.IP)
		}
	}
	return h
}

func nodeHops(nodes []corev1.Node, missing []string) []NodeHop {
	var out []NodeHop
	for i := range nodes {
		n := &nodes[i]
		h := NodeHop{Name: n.Name, Zone: n.Labels[corev1.LabelTopologyZone]}
		for _, c := range n.Status.Conditions {
			if c.Type == corev1.NodeReady {
				h.Ready = c.Status == corev1.ConditionTrue
			}
		}
		for _, a := range n.Status.Addresses {
			if a.Type == corev1.NodeInternalIP && h.InternalIP == "" {
				h.InternalIP = a.Address
			}
		}
		out = append(out, h)
	}
	for _, name := range missing {
		out = append(out, NodeHop{Name: name, Missing: true})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func sliceHops(slices []discoveryv1.EndpointSlice) []SliceHop {
	var out []SliceHop
	for i := range slices {
		s := &slices[i]
		h := SliceHop{
			Name:        s.Name,
			AddressType: string(s.AddressType),
			ManagedBy:   s.Labels[discoveryv1.LabelManagedBy],
			Endpoints:   len(s.Endpoints),
		}
		for _, e := range s.Endpoints {
			if endpointReady(e) {
				h.Ready++
			}
		}
		out = append(out, h)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// endpointReady treats a missing ready condition as ready, as consumers of
// the EndpointSlice API are told to.
func endpointReady(e discoveryv1.Endpoint) bool {
	return e.Conditions.Ready == nil || *e.Conditions.Ready
}

// endpointServing treats a missing serving condition as serving, as
// kube-proxy does (pkg/proxy/endpointslicecache.go).
func endpointServing(e discoveryv1.Endpoint) bool {
	return e.Conditions.Serving == nil || *e.Conditions.Serving
}

func endpointTerminating(e discoveryv1.Endpoint) bool {
	return e.Conditions.Terminating != nil && *e.Conditions.Terminating
}

func podSubject(name string) string { return "pod/" + name }

func portLabel(p PortHop) string {
	if p.Name != "" {
		return fmt.Sprintf("port %s (%d/%s)", p.Name, p.Port, p.Protocol)
	}
	return fmt.Sprintf("port %d/%s", p.Port, p.Protocol)
}
