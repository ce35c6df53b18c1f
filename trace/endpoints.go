package trace

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func endpointFindings(in Input, t *Trace) []Finding {
	s := in.Service
	if s.Spec.Type == corev1.ServiceTypeExternalName || in.unread(slicesResource) {
		return nil // without the slices nothing here can be judged
	}
	var out []Finding
	if f, ok := noReadyEndpoints(in, t); ok {
		out = append(out, f)
	} else {
		out = append(out, familyWithoutEndpoints(in, t)...)
	}
	if len(s.Spec.Selector) > 0 && !in.unread("pods") {
		out = append(out, endpointPodMismatch(in, t)...)
	}
	if f, ok := terminating(in, t); ok {
		out = append(out, f)
	}
	return out
}

func noReadyEndpoints(in Input, t *Trace) (Finding, bool) {
	// kube-proxy reads only slices of the Service's own address families.
	ready := 0
	families := serviceFamilies(in.Service)
	for _, sl := range t.Slices {
		if families[corev1.IPFamily(sl.AddressType)] {
			ready += sl.Ready
		}
	}
	if ready > 0 || servingTerminating(t) || (len(in.Service.Spec.Selector) == 0 && len(in.EndpointSlices) == 0) {
		// kube-proxy falls back to serving terminating endpoints
		// (TerminatingEndpoints says so); a selectorless Service without
		// slices is reported as NoSelector.
		return Finding{}, false
	}
	msg := fmt.Sprintf("service has no ready endpoints: its %d EndpointSlice(s) hold none", len(t.Slices))
	hint := fmt.Sprintf("make the selected pods ready (kubectl get pods -n %s -l %s)", in.Namespace, SelectorString(in.Service.Spec.Selector))
	switch {
	case len(t.Slices) == 0:
		msg = "service has no EndpointSlices: the EndpointSlice controller published nothing"
		hint = "check kube-controller-manager is running and the Service's events: kubectl describe svc " + in.Name + " -n " + in.Namespace
	case len(in.Pods) == 0 && len(in.Service.Spec.Selector) > 0 && !in.unread("pods") && len(workloadFindings(in)) > 0:
		msg += " because no pod runs for the selector"
		hint = "see the workload's finding (" + WorkloadScaledToZero + ", " + WorkloadPodsRefused + " or " + WorkloadRolloutStuck + ") for the command that fixes it"
	case len(in.Pods) == 0 && len(in.Service.Spec.Selector) > 0 && !in.unread("pods"):
		msg += " because no pod matches the selector"
		hint = "fix the selector (see NoPodsMatchSelector)"
	case anyReadyPod(t):
		msg += " although some selected pods are ready: none of them is published for the Service's ports"
		hint = "see NamedPortNotFound / ProtocolMismatch for the ports, and the controller's events: kubectl describe svc " + in.Name + " -n " + in.Namespace
	}
	if t.Service.Headless {
		return Finding{
			ID: NoReadyEndpoints, Severity: SeverityError, Subject: "service/" + in.Name,
			Message: strings.Replace(msg, "service has no ready endpoints", "headless service has no ready endpoints", 1) + "; DNS returns no address for it", Hint: hint,
		}, true
	}
	return Finding{
		ID: NoReadyEndpoints, Severity: SeverityError, Subject: "service/" + in.Name,
		Message: msg + "; clients see " + clientsSee(t, noEndpoints), Hint: hint,
	}, true
}

// endpointPodMismatch compares the addresses the slices publish with the
// ready pods the selector matches (checklist step 8).
func endpointPodMismatch(in Input, t *Trace) []Finding {
	var parts []string
	if stray := strayEndpoints(in, t); len(stray) > 0 {
		parts = append(parts, "ready endpoints without a matching ready pod: "+limitList(stray, 5))
	}
	if missing := unpublishedPods(in, t); len(missing) > 0 {
		parts = append(parts, "ready pods missing from the EndpointSlices: "+limitList(missing, 5))
	}
	if wrong := wrongPorts(in, t); len(wrong) > 0 {
		parts = append(parts, "endpoints whose port is not the one the targetPort names on their pod: "+limitList(wrong, 5))
	}
	if len(parts) == 0 {
		return nil
	}
	return []Finding{{
		ID: EndpointsNotMatchingPods, Severity: SeverityWarning, Subject: "service/" + in.Name,
		Message: strings.Join(parts, "; "),
		Hint:    "the EndpointSlice controller may be lagging or failing: check kube-controller-manager and kubectl get endpointslices -n " + in.Namespace + " -l kubernetes.io/service-name=" + in.Name,
	}}
}

// strayEndpoints lists ready endpoints of controller-made slices that no
// ready selected pod has.
func strayEndpoints(in Input, t *Trace) []string {
	if in.Service.Spec.PublishNotReadyAddresses {
		return nil // not-ready pods are published on purpose
	}
	readyPodIPs, podIPs := map[string]bool{}, map[string]string{}
	for _, p := range t.Pods {
		for _, ip := range p.IPs {
			podIPs[ip] = p.Name
			readyPodIPs[ip] = readyPodIPs[ip] || p.Ready
		}
	}
	var stray []string
	for i := range in.EndpointSlices {
		sl := &in.EndpointSlices[i]
		// Hand-made slices of a Service with a selector list what their
		// owner wants; only the controller's must mirror the pods.
		if m := sl.Labels[discoveryv1.LabelManagedBy]; m != "" && m != "endpointslice-controller.k8s.io" {
			continue
		}
		for _, e := range sl.Endpoints {
			for _, a := range e.Addresses {
				if endpointReady(e) && !readyPodIPs[a] {
					stray = append(stray, strayReason(a, podIPs))
				}
			}
		}
	}
	sort.Strings(stray)
	return stray
}

// unpublishedPods lists ready selected pods whose IPs of the Service's
// families are in no slice. A pod that resolves no Service port is left out
// on purpose (NamedPortNotFound explains it), and so is a pod on a Node
// that does not exist (NodeNotFound).
func unpublishedPods(in Input, t *Trace) []string {
	published := map[string]bool{}
	for i := range in.EndpointSlices {
		for _, e := range in.EndpointSlices[i].Endpoints {
			for _, a := range e.Addresses {
				published[a] = true
			}
		}
	}
	servesSomePort := map[string]bool{}
	for i := range in.Pods {
		servesSomePort[in.Pods[i].Name] = len(in.Service.Spec.Ports) == 0
		for _, sp := range in.Service.Spec.Ports {
			if _, ok := resolveTargetPort(&in.Pods[i], sp); ok {
				servesSomePort[in.Pods[i].Name] = true
			}
		}
	}
	missingNode := map[string]bool{}
	for _, n := range in.MissingNodes {
		missingNode[n] = true
	}
	families := serviceFamilies(in.Service)
	var out []string
	for _, p := range t.Pods {
		if !p.Ready || !servesSomePort[p.Name] || missingNode[p.Node] {
			continue
		}
		for _, ip := range p.IPs {
			if !published[ip] && families[ipFamily(ip)] {
				out = append(out, fmt.Sprintf("%s (%s)", p.Name, ip))
			}
		}
	}
	sort.Strings(out)
	return out
}

func strayReason(addr string, podIPs map[string]string) string {
	if name, ok := podIPs[addr]; ok {
		return fmt.Sprintf("%s (pod %s is not ready)", addr, name)
	}
	return addr + " (no selected pod has this IP)"
}

func terminating(in Input, t *Trace) (Finding, bool) {
	var names []string
	seen := map[string]bool{}
	anyReady := false
	for _, p := range t.Ports {
		for _, e := range p.Endpoints {
			anyReady = anyReady || e.Ready
			if e.Terminating && !seen[e.Address] {
				seen[e.Address] = true
				names = append(names, endpointName(e))
			}
		}
	}
	if len(names) == 0 {
		return Finding{}, false
	}
	f := Finding{
		ID: TerminatingEndpoints, Severity: SeverityInfo, Subject: "service/" + in.Name,
		Message: fmt.Sprintf("%d endpoint(s) are terminating: %s; kube-proxy sends them new connections only while no ready endpoint exists", len(names), limitList(names, 5)),
		Hint:    "expected during a rollout; if it lasts, look for pods stuck in Terminating: kubectl get pods -n " + in.Namespace,
	}
	if !anyReady {
		// The Service still answers, through pods that are going away.
		f.Severity = SeverityWarning
		f.Message = fmt.Sprintf("only terminating endpoints remain: %s; kube-proxy keeps sending new connections to those still serving, and the Service has no backend once they stop", limitList(names, 5))
		f.Hint = "start new ready pods before the old ones finish terminating: kubectl get pods -n " + in.Namespace + " -l " + SelectorString(in.Service.Spec.Selector)
	}
	return f, true
}

func endpointName(e EndpointHop) string {
	if e.Pod != "" {
		return fmt.Sprintf("%s (%s)", e.Address, e.Pod)
	}
	return e.Address
}

// servingTerminating reports whether some endpoint is terminating but still
// serving: kube-proxy uses those when no endpoint is ready.
func servingTerminating(t *Trace) bool {
	for _, p := range t.Ports {
		for _, e := range p.Endpoints {
			if e.Terminating && e.Serving {
				return true
			}
		}
	}
	return false
}

// wrongPorts lists endpoints whose port differs from the number the
// Service port's targetPort resolves to on the endpoint's pod.
func wrongPorts(in Input, t *Trace) []string {
	var out []string
	for i, sp := range in.Service.Spec.Ports {
		for _, e := range t.Ports[i].Endpoints {
			want, ok := t.Ports[i].Resolved[e.Pod]
			if sp.TargetPort.Type != intstr.String || !ok || e.Pod == "" || want == e.Port {
				continue
			}
			out = append(out, fmt.Sprintf("%s:%d (pod %s has %s=%d)", e.Address, e.Port, e.Pod, sp.TargetPort.StrVal, want))
		}
	}
	sort.Strings(out)
	return out
}

// serviceFamilies are the IP families the Service serves (IPv4 when unset).
func serviceFamilies(s *corev1.Service) map[corev1.IPFamily]bool {
	out := map[corev1.IPFamily]bool{}
	for _, f := range s.Spec.IPFamilies {
		out[f] = true
	}
	if len(out) == 0 {
		for _, ip := range s.Spec.ClusterIPs {
			out[ipFamily(ip)] = true
		}
	}
	if len(out) == 0 {
		out[corev1.IPv4Protocol] = true
	}
	return out
}

func ipFamily(ip string) corev1.IPFamily {
	if strings.Contains(ip, ":") {
		return corev1.IPv6Protocol
	}
	return corev1.IPv4Protocol
}

func anyReadyPod(t *Trace) bool {
	for _, p := range t.Pods {
		if p.Ready {
			return true
		}
	}
	return false
}

// familyWithoutEndpoints flags a dual-stack Service one of whose families
// has no ready endpoint: each family's proxier reads only its own slices,
// so clients of that family are refused while the other works.
func familyWithoutEndpoints(in Input, t *Trace) []Finding {
	if len(in.Service.Spec.IPFamilies) < 2 || t.Service.Headless {
		return nil
	}
	ready := map[corev1.IPFamily]int{}
	for _, sl := range t.Slices {
		ready[corev1.IPFamily(sl.AddressType)] += sl.Ready
	}
	var out []Finding
	for _, f := range in.Service.Spec.IPFamilies {
		if ready[f] > 0 {
			continue
		}
		out = append(out, Finding{
			ID: NoReadyEndpoints, Severity: SeverityWarning, Subject: "service/" + in.Name + " (" + string(f) + ")",
			Message: fmt.Sprintf("no %s EndpointSlice holds a ready endpoint, so %s clients of this dual-stack Service are refused while the other family works", f, f),
			Hint:    "give the pods " + string(f) + " addresses (the cluster's pod CIDRs and CNI), or make the Service single-stack: kubectl get endpointslices -n " + in.Namespace + " -l kubernetes.io/service-name=" + in.Name,
		})
	}
	return out
}
