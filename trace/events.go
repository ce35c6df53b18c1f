package trace

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// endpointEventReasons are the Warning reasons the EndpointSlice and
// Endpoints controllers record on a Service when they cannot publish.
var endpointEventReasons = []string{"FailedToUpdateEndpointSlices", "FailedToUpdateEndpoint", "FailedToCreateEndpoint"}

func eventFindings(in Input, t *Trace) []Finding {
	var out []Finding
	seen := map[string]bool{}
	events := append([]corev1.Event(nil), in.Events...)
	sort.SliceStable(events, func(i, j int) bool { return eventTime(&events[i]) > eventTime(&events[j]) })
	for i := range events {
		e := &events[i]
		if e.Type != corev1.EventTypeWarning || !isEndpointReason(e.Reason) || seen[e.Reason+e.Message] {
			continue
		}
		seen[e.Reason+e.Message] = true
		count := e.Count
		if e.Series != nil && e.Series.Count > count {
			count = e.Series.Count
		}
		hint := "kubectl describe svc " + in.Name + " -n " + in.Namespace
		if strings.Contains(e.Message, "Node") && strings.Contains(e.Message, "Not Found") {
			hint = "a selected pod names a Node that does not exist; check kubectl get nodes and the pods' spec.nodeName"
		}
		out = append(out, Finding{
			ID: EndpointSliceUpdateFailed, Severity: SeverityError, Subject: "service/" + in.Name,
			Message: fmt.Sprintf("%s (x%d): %s", e.Reason, max(count, 1), e.Message),
			Hint:    hint,
		})
	}
	return out
}

func isEndpointReason(r string) bool {
	for _, want := range endpointEventReasons {
		if r == want {
			return true
		}
	}
	return false
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
		case n.Missing && len(pods) == 0:
			out = append(out, Finding{
				ID: NodeNotFound, Severity: SeverityError, Subject: "node/" + n.Name,
				Message: fmt.Sprintf("node %s does not exist", n.Name),
				Hint:    "check the node name given with --node: kubectl get nodes",
			})
		case n.Missing:
			out = append(out, Finding{
				ID: NodeNotFound, Severity: SeverityError, Subject: "node/" + n.Name,
				Message: fmt.Sprintf("node %s does not exist, yet pods %s are bound to it; the EndpointSlice controller skips them", n.Name, limitList(pods, 5)),
				Hint:    "delete and recreate the pods so they schedule onto a real node, or register the node: kubectl get nodes",
			})
		case !n.Ready:
			out = append(out, Finding{
				ID: NodeNotReady, Severity: SeverityWarning, Subject: "node/" + n.Name,
				Message: fmt.Sprintf("node %s is not Ready; its pods %s may not serve", n.Name, limitList(pods, 5)),
				Hint:    "kubectl describe node " + n.Name,
			})
		}
	}
	return out
}

func localPolicyFindings(in Input, t *Trace) []Finding {
	s := in.Service
	external := s.Spec.ExternalTrafficPolicy == corev1.ServiceExternalTrafficPolicyLocal &&
		(s.Spec.Type == corev1.ServiceTypeNodePort || s.Spec.Type == corev1.ServiceTypeLoadBalancer)
	internal := s.Spec.InternalTrafficPolicy != nil && *s.Spec.InternalTrafficPolicy == corev1.ServiceInternalTrafficPolicyLocal
	if !external && !internal {
		return nil
	}
	withReady := map[string]bool{}
	for _, p := range t.Ports {
		for _, e := range p.Endpoints {
			if e.Ready && e.Node != "" {
				withReady[e.Node] = true
			}
		}
	}
	if len(withReady) == 0 {
		return nil // NoReadyEndpoints already says the Service is down
	}
	var lacking []string
	for _, n := range t.Nodes {
		if !withReady[n.Name] && !n.Missing {
			lacking = append(lacking, n.Name)
		}
	}
	if len(lacking) == 0 {
		return nil
	}
	var policies []string
	if external {
		policies = append(policies, "externalTrafficPolicy: Local (NodePort/LoadBalancer traffic)")
	}
	if internal {
		policies = append(policies, "internalTrafficPolicy: Local (in-cluster clients)")
	}
	return []Finding{{
		ID: NoLocalEndpoints, Severity: SeverityWarning, Subject: "service/" + in.Name,
		Message: fmt.Sprintf("with %s, traffic entering nodes %s is dropped: they host selected pods but no ready local endpoint; only %s have one",
			strings.Join(policies, " and "), strings.Join(lacking, ", "), strings.Join(sortedKeys(withReady), ", ")),
		Hint: "make the pods on those nodes ready, or use the Cluster policy if losing the client source IP is acceptable",
	}}
}
