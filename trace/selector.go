package trace

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
)

func selectorFindings(in Input, t *Trace) []Finding {
	s := in.Service
	subject := "service/" + s.Name
	if s.Spec.Type == corev1.ServiceTypeExternalName {
		return nil
	}
	if len(s.Spec.Selector) == 0 {
		if in.unread(slicesResource) {
			return nil // AccessDenied says the slices could not be read
		}
		f := Finding{
			ID: NoSelector, Severity: SeverityInfo, Subject: subject,
			Message: fmt.Sprintf("service has no selector: its %d EndpointSlice(s) are maintained by hand or by another controller", len(in.EndpointSlices)),
			Hint:    "keep the EndpointSlices (label kubernetes.io/service-name) in step with the backends yourself",
		}
		if owner := sliceOwner(in); owner != "" {
			f.Message = fmt.Sprintf("service has no selector: %s maintains its %d EndpointSlice(s)", owner, len(in.EndpointSlices))
			f.Hint = "nothing to do unless the addresses are wrong; then look at " + owner
		}
		if len(in.EndpointSlices) == 0 {
			// Every connection is refused: that is broken, not a style.
			f.Severity = SeverityError
			f.Message = "service has no selector and no EndpointSlices, so it has no backends and every connection is refused"
			f.Hint = fmt.Sprintf("add a selector matching the pods' labels, or create an EndpointSlice labelled kubernetes.io/service-name=%s", s.Name)
		}
		return []Finding{f}
	}
	if len(in.Pods) > 0 || in.unread("pods") {
		return nil
	}
	// The selector is right when a workload's template matches it: that
	// workload says why no pod runs.
	if fs := workloadFindings(in); len(fs) > 0 {
		return fs
	}
	f := Finding{
		ID: NoPodsMatchSelector, Severity: SeverityError, Subject: subject,
		Message: fmt.Sprintf("no pod in namespace %s matches selector %s", s.Namespace, SelectorString(s.Spec.Selector)),
		Hint:    fmt.Sprintf("compare with the pods' labels: kubectl get pods -n %s --show-labels", s.Namespace),
	}
	if in.Workloads.Listed && !in.unreadWorkloads() {
		f.Message += ", and no Deployment, StatefulSet, DaemonSet or ReplicaSet template there matches it either"
	}
	if misses := nearMisses(s.Spec.Selector, in.NearMissPods); len(misses) > 0 {
		f.Message += "; nearest: " + strings.Join(misses, "; ")
		f.Hint = "fix the label on the Service selector or on the pods so they agree; " + f.Hint
	}
	return []Finding{f}
}

// sliceOwner names who maintains the slices of a selectorless Service, from
// their managed-by label, when that is not a person.
func sliceOwner(in Input) string {
	for _, sl := range in.EndpointSlices {
		switch m := sl.Labels[discoveryv1.LabelManagedBy]; m {
		case "endpointslicemirroring-controller.k8s.io":
			return "the EndpointSlice mirroring controller (from the Endpoints object" + apiServerNote(in) + ")"
		case "", "staff":
		default:
			return m
		}
	}
	return ""
}

func apiServerNote(in Input) string {
	if in.Namespace == "default" && in.Name == "kubernetes" {
		return ", which the API server keeps"
	}
	return ""
}

// nearMisses names the pods that match most of the selector and the labels
// that keep them out, best first.
func nearMisses(sel map[string]string, pods []corev1.Pod) []string {
	type miss struct {
		pod     string
		matched int
		// distance adds up how far the differing values are from the
		// selector's: a typo is nearer than another app's label.
		distance int
		why      []string
	}
	keys := make([]string, 0, len(sel))
	for k := range sel {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var misses []miss
	for i := range pods {
		p := &pods[i]
		m := miss{pod: p.Name}
		for _, k := range keys {
			v, ok := p.Labels[k]
			switch {
			case ok && v == sel[k]:
				m.matched++
			case ok:
				m.why = append(m.why, fmt.Sprintf("has %s=%s, selector wants %s=%s", k, v, k, sel[k]))
				m.matched++ // the key is there: a typo in the value is a near miss
				m.distance += editDistance(v, sel[k])
			default:
				m.why = append(m.why, fmt.Sprintf("lacks label %s=%s", k, sel[k]))
			}
		}
		if m.matched > 0 {
			misses = append(misses, m)
		}
	}
	sort.SliceStable(misses, func(i, j int) bool {
		if misses[i].matched != misses[j].matched {
			return misses[i].matched > misses[j].matched
		}
		if misses[i].distance != misses[j].distance {
			return misses[i].distance < misses[j].distance
		}
		return misses[i].pod < misses[j].pod
	})
	var out []string
	for i, m := range misses {
		if i == 3 {
			out = append(out, fmt.Sprintf("and %d more", len(misses)-3))
			break
		}
		out = append(out, fmt.Sprintf("pod %s %s", m.pod, strings.Join(m.why, ", ")))
	}
	return out
}

// SelectorString prints a selector as kubectl does: k=v pairs sorted by key.
func SelectorString(sel map[string]string) string {
	keys := make([]string, 0, len(sel))
	for k := range sel {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + sel[k]
	}
	return strings.Join(parts, ",")
}

func podReadinessFindings(in Input, t *Trace) []Finding {
	var out []Finding
	for _, p := range t.Pods {
		// A terminating pod is meant to be unready; TerminatingEndpoints
		// speaks for it.
		if p.Ready || p.Terminating {
			continue
		}
		hint := fmt.Sprintf("kubectl describe pod %s -n %s", p.Name, in.Namespace)
		switch {
		case strings.Contains(p.Reason, "CrashLoopBackOff"), strings.Contains(p.Reason, "terminated"):
			hint = fmt.Sprintf("kubectl logs %s -n %s --previous", p.Name, in.Namespace)
		case strings.Contains(p.Reason, "readiness probe"):
			hint = fmt.Sprintf("see the probe failures in the events and the app's logs: kubectl describe pod %s -n %s; kubectl logs %s -n %s", p.Name, in.Namespace, p.Name, in.Namespace)
		}
		out = append(out, Finding{
			ID: PodsNotReady, Severity: SeverityWarning, Subject: podSubject(p.Name),
			Message: fmt.Sprintf("pod %s is not ready: %s", p.Name, p.Reason),
			Hint:    hint,
		})
	}
	return out
}
