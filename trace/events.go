package trace

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// sliceFailureReason is the Warning the EndpointSlice controller records on
// a Service when it cannot publish (FailedToUpdateEndpoint and friends land
// on the Endpoints object instead).
const sliceFailureReason = "FailedToUpdateEndpointSlices"

func eventFindings(in Input, t *Trace) []Finding {
	var out []Finding
	seen := map[string]bool{}
	events := append([]corev1.Event(nil), in.Events...)
	sort.SliceStable(events, func(i, j int) bool { return eventTime(&events[i]) > eventTime(&events[j]) })
	for i := range events {
		e := &events[i]
		if e.Type != corev1.EventTypeWarning || seen[e.Reason+e.Message] {
			continue
		}
		// Events outlive their object: one about an earlier Service of the
		// same name says nothing about this one.
		if e.InvolvedObject.UID != "" && in.Service.UID != "" && e.InvolvedObject.UID != in.Service.UID {
			continue
		}
		seen[e.Reason+e.Message] = true
		count := e.Count
		if e.Series != nil && e.Series.Count > count {
			count = e.Series.Count
		}
		if e.Reason != sliceFailureReason {
			f := Finding{
				ID: ServiceWarningEvent, Severity: SeverityWarning, Subject: "service/" + in.Name,
				Message: fmt.Sprintf("%s (x%d, last %s%s): %s", e.Reason, max(count, 1), eventTime(e), eventSource(e), e.Message),
				Hint:    warningHint(e.Reason, in),
			}
			if selfRepaired(e.Reason) {
				// The allocator's repair loop found the address or port
				// unrecorded and recorded it: nothing is broken now.
				f.Severity = SeverityInfo
				f.Hint = "the API server's allocator repaired it; if it keeps coming back, something else rewrites the Service's clusterIP or ports: " + "kubectl describe svc " + in.Name + " -n " + in.Namespace
			}
			out = append(out, f)
			continue
		}
		hint := "read kube-controller-manager's log around " + eventTime(e) + " for the endpointslice controller's error, and the Service's events: kubectl describe svc " + in.Name + " -n " + in.Namespace
		if strings.Contains(strings.ToLower(e.Message), "node") && strings.Contains(strings.ToLower(e.Message), "not found") {
			hint = "a selected pod is bound to a Node that does not exist (see NodeNotFound): recreate it on a real node"
		}
		f := Finding{
			ID: EndpointSliceUpdateFailed, Severity: SeverityError, Subject: "service/" + in.Name,
			Message: fmt.Sprintf("%s (x%d, last %s): %s", e.Reason, max(count, 1), eventTime(e), e.Message),
			Hint:    hint,
		}
		if allPublished(in, t) {
			// The slices now hold every ready pod: the failure has passed.
			f.Severity = SeverityWarning
			f.Message += " (every ready pod is published now: the failure is past)"
		}
		out = append(out, f)
	}
	return out
}

// selfRepaired tells the allocator repair loop's reasons for something it
// fixes on the spot (pkg/registry/core/service/ipallocator and portallocator
// controllers): the event records history, not a broken Service.
func selfRepaired(reason string) bool {
	return reason == "ClusterIPNotAllocated" || reason == "PortNotAllocated"
}

// eventSource names the component that recorded e, when the event says.
func eventSource(e *corev1.Event) string {
	switch {
	case e.ReportingController != "":
		return ", from " + e.ReportingController
	case e.Source.Component != "":
		return ", from " + e.Source.Component
	}
	return ""
}

// warningHint points at where the cause of a Service Warning is found.
func warningHint(reason string, in Input) string {
	describe := "kubectl describe svc " + in.Name + " -n " + in.Namespace
	switch {
	case strings.Contains(reason, "LoadBalancer"):
		return "the cloud controller manager could not set up the load balancer: read its log and the cloud provider's quota and permissions; " + describe
	case strings.Contains(reason, "ClusterIP") || strings.Contains(reason, "Port") || strings.Contains(reason, "Allocat") || strings.Contains(reason, "CIDR"):
		return "the API server's IP/port allocator complained: check --service-cluster-ip-range and --service-node-port-range against the Service; " + describe
	}
	return "the reason names the controller that complained; read its log around the event's time and " + describe
}

// allPublished reports whether every ready selected pod, on an existing
// node, has its IP in some EndpointSlice.
func allPublished(in Input, t *Trace) bool {
	if len(in.MissingNodes) > 0 {
		return false
	}
	published := map[string]bool{}
	for i := range in.EndpointSlices {
		for _, e := range in.EndpointSlices[i].Endpoints {
			for _, a := range e.Addresses {
				published[a] = true
			}
		}
	}
	for _, p := range t.Pods {
		for _, ip := range p.IPs {
			if p.Ready && !published[ip] {
				return false
			}
		}
	}
	return true
}

func eventTime(e *corev1.Event) string {
	switch {
	case !e.LastTimestamp.IsZero():
		return e.LastTimestamp.UTC().Format("2006-01-02T15:04:05")
	case !e.EventTime.IsZero():
		return e.EventTime.UTC().Format("2006-01-02T15:04:05.000000")
	default:
		return e.CreationTimestamp.UTC().Format("2006-01-02T15:04:05")
	}
}

func nodeFindings(in Input, t *Trace) []Finding {
	var out []Finding
	for _, n := range t.Nodes {
		var pods []string
		for _, p := range t.Pods {
			if p.Node == n.Name {
				pods = append(pods, p.Name)
			}
		}
		switch {
		case n.Missing && len(pods) == 0 && in.Dataplane != nil && in.Dataplane.Node == n.Name:
			out = append(out, Finding{
				ID: NodeNotFound, Severity: SeverityError, Subject: "node/" + n.Name,
				Message: fmt.Sprintf("node %s does not exist", n.Name),
				Hint:    "check the node name given with --node: kubectl get nodes",
			})
		case n.Missing && len(pods) == 0:
			out = append(out, Finding{
				ID: NodeNotFound, Severity: SeverityError, Subject: "node/" + n.Name,
				Message: fmt.Sprintf("node %s does not exist, yet the Service's endpoints name it", n.Name),
				Hint:    "the endpoints are stale or hand-made: kubectl get endpointslices -n " + in.Namespace + " -l kubernetes.io/service-name=" + in.Name + " -o wide",
			})
		case n.Missing:
			skip := "the EndpointSlice controller skips them"
			if in.Service.Spec.PublishNotReadyAddresses {
				skip = "they are published (publishNotReadyAddresses) but nothing runs them"
			}
			out = append(out, Finding{
				ID: NodeNotFound, Severity: SeverityError, Subject: "node/" + n.Name,
				Message: fmt.Sprintf("node %s does not exist, yet %s %s bound to it; %s", n.Name,
					plural(len(pods), "pod", "pods")+" "+limitList(pods, 5), plural(len(pods), "is", "are"), skip),
				Hint: "delete and recreate the pods so they schedule onto a real node, or register the node: kubectl get nodes",
			})
		case !n.Ready:
			out = append(out, Finding{
				ID: NodeNotReady, Severity: SeverityWarning, Subject: "node/" + n.Name,
				Message: fmt.Sprintf("node %s is not Ready; pods on it (%s) may not serve", n.Name, limitList(pods, 5)),
				Hint:    "kubectl describe node " + n.Name,
			})
		}
	}
	return out
}

func localPolicyFindings(in Input, t *Trace) []Finding {
	s := in.Service
	// Like apiservice.ExternallyAccessible: NodePort, LoadBalancer, or
	// any Service with external IPs.
	external := s.Spec.ExternalTrafficPolicy == corev1.ServiceExternalTrafficPolicyLocal &&
		(s.Spec.Type == corev1.ServiceTypeNodePort || s.Spec.Type == corev1.ServiceTypeLoadBalancer || len(s.Spec.ExternalIPs) > 0)
	internal := s.Spec.InternalTrafficPolicy != nil && *s.Spec.InternalTrafficPolicy == corev1.ServiceInternalTrafficPolicyLocal
	if !external && !internal {
		return nil
	}
	// A node without a ready local endpoint falls back to its serving,
	// terminating ones (kube-proxy's CategorizeEndpoints).
	withReady := map[string]bool{}
	for _, p := range t.Ports {
		for _, e := range p.Endpoints {
			if e.Node != "" && (e.Ready || (e.Serving && e.Terminating)) {
				withReady[e.Node] = true
			}
		}
	}
	if len(withReady) == 0 {
		return nil // NoReadyEndpoints already says the Service is down
	}
	hosts := map[string]bool{}
	for _, p := range t.Pods {
		hosts[p.Node] = true
	}
	var lacking, why []string
	for _, n := range t.Nodes {
		if withReady[n.Name] || n.Missing {
			continue
		}
		lacking = append(lacking, n.Name)
		// A node named by --node may host none of the pods at all.
		if hosts[n.Name] {
			why = append(why, n.Name+" hosts selected pods, none of them ready")
		} else {
			why = append(why, n.Name+" hosts no selected pod")
		}
	}
	if len(lacking) == 0 {
		return nil
	}
	var policies, hints, sees []string
	if external {
		policies = append(policies, "externalTrafficPolicy: Local (NodePort, LoadBalancer and external IP traffic)")
		hints = append(hints, "set externalTrafficPolicy: Cluster if losing the client source IP is acceptable")
		sees = append(sees, "clients outside the cluster see "+clientsSee(t, noLocalExternal))
	}
	if internal {
		policies = append(policies, "internalTrafficPolicy: Local (in-cluster clients)")
		hints = append(hints, "set internalTrafficPolicy: Cluster unless clients must stay on their own node")
		sees = append(sees, "pods and the node itself see "+clientsSee(t, noLocalInternal)+" on the cluster IP")
	}
	return []Finding{{
		ID: NoLocalEndpoints, Severity: SeverityWarning, Subject: "service/" + in.Name,
		Message: fmt.Sprintf("with %s, traffic entering %s finds no ready local endpoint (%s); only %s %s one: %s",
			strings.Join(policies, " and "), plural(len(lacking), "node", "nodes")+" "+strings.Join(lacking, ", "),
			strings.Join(why, "; "), strings.Join(sortedKeys(withReady), ", "), plural(len(withReady), "has", "have"),
			strings.Join(sees, "; ")),
		Hint: "make the pods on those nodes ready, or " + strings.Join(hints, "; or "),
	}}
}

// plural picks the singular or plural form for n things.
func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
