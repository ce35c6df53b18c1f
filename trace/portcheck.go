package trace

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// portFindings checks each Service port against the container ports of the
// selected pods (checklist step 7: targetPort, named ports, protocol).
func portFindings(in Input, t *Trace) []Finding {
	s := in.Service
	if len(s.Spec.Selector) == 0 || len(in.Pods) == 0 {
		return nil
	}
	var out []Finding
	for i, sp := range s.Spec.Ports {
		label := portLabel(t.Ports[i])
		subject := "service/" + s.Name + ":" + portKey(sp)
		if sp.TargetPort.Type == intstr.String {
			out = append(out, namedPortFindings(in.Pods, sp, label, subject)...)
		} else {
			out = append(out, numericPortFindings(in, sp, label, subject)...)
		}
	}
	return out
}

func portKey(sp corev1.ServicePort) string {
	if sp.Name != "" {
		return sp.Name
	}
	return fmt.Sprint(sp.Port)
}

func namedPortFindings(pods []corev1.Pod, sp corev1.ServicePort, label, subject string) []Finding {
	name := sp.TargetPort.StrVal
	proto := protocolOf(sp.Protocol)
	var missing, wrongProto []string
	for i := range pods {
		p := &pods[i]
		if _, ok := resolveTargetPort(p, sp); ok {
			continue
		}
		if other := declaredProtocol(p, func(cp corev1.ContainerPort) bool { return cp.Name == name }); other != "" {
			wrongProto = append(wrongProto, fmt.Sprintf("%s (%s)", p.Name, other))
		} else {
			missing = append(missing, p.Name)
		}
	}
	var out []Finding
	if len(wrongProto) > 0 {
		out = append(out, Finding{
			ID: ProtocolMismatch, Severity: SeverityError, Subject: subject,
			Message: fmt.Sprintf("%s targets named port %q over %s, but pods declare it with another protocol: %s", label, name, proto, strings.Join(wrongProto, ", ")),
			Hint:    fmt.Sprintf("make the Service port protocol and the container port protocol agree (both %s, or both the pods' protocol)", proto),
		})
	}
	if len(missing) > 0 {
		out = append(out, Finding{
			ID: NamedPortNotFound, Severity: SeverityError, Subject: subject,
			Message: fmt.Sprintf("%s targets named port %q, which %d of %d %s not declare: %s; %s no endpoint for this port", label, name, len(missing), len(pods),
				plural(len(pods), "pod does", "pods do"), limitList(missing, 5), plural(len(missing), "it gets", "they get")),
			Hint: fmt.Sprintf("add `ports: [{name: %s, containerPort: N}]` to the pod template or set targetPort to the number the app listens on", name),
		})
	}
	return out
}

func numericPortFindings(in Input, sp corev1.ServicePort, label, subject string) []Finding {
	pods := in.Pods
	target, _ := resolveTargetPort(&pods[0], sp)
	proto := protocolOf(sp.Protocol)
	declared := map[string]bool{}
	for i := range pods {
		p := &pods[i]
		for _, c := range servingContainers(p) {
			for _, cp := range c.Ports {
				declared[fmt.Sprintf("%d/%s", cp.ContainerPort, protocolOf(cp.Protocol))] = true
			}
		}
	}
	if declared[fmt.Sprintf("%d/%s", target, proto)] {
		return nil
	}
	for i := range pods {
		if other := declaredProtocol(&pods[i], func(cp corev1.ContainerPort) bool { return cp.ContainerPort == target }); other != "" {
			// Container ports are informational for a numeric targetPort,
			// so this is a warning: the app may still listen on both.
			return []Finding{{
				ID: ProtocolMismatch, Severity: SeverityWarning, Subject: subject,
				Message: fmt.Sprintf("%s forwards %s to port %d, but the pods declare %d/%s", label, proto, target, target, other),
				Hint:    fmt.Sprintf("set protocol: %s on the Service port, or fix the container port's protocol", other),
			}}
		}
	}
	if len(declared) == 0 {
		// Declaring container ports is optional; with none declared there is
		// nothing to compare against.
		return nil
	}
	hint := fmt.Sprintf("set targetPort to the port the app listens on, or check it listens on %d: kubectl exec %s -n %s -- netstat -ltn", target, pods[0].Name, pods[0].Namespace)
	if probe := probedPort(&pods[0]); probe != 0 && probe != target {
		// The readiness probe passing on another port says where the app
		// listens; a Service aimed elsewhere is refused on every connection.
		hint = fmt.Sprintf("the pods' readiness probe checks port %d: if the app listens there, set targetPort: %d; else check it listens on %d: kubectl exec %s -n %s -- netstat -ltn", probe, probe, target, pods[0].Name, pods[0].Namespace)
	}
	declares := strings.Join(sortedKeys(declared), ", ")
	f := Finding{
		ID: TargetPortNotExposed, Severity: SeverityError, Subject: subject,
		Message: fmt.Sprintf("%s forwards to targetPort %d, which no container of the selected pods declares (they declare %s); nothing shows that port answering (no readiness probe checks it; --probe connects to each endpoint), so connections to every endpoint are most likely refused", label, target, declares),
		Hint:    hint,
	}
	if in.Probe != nil && in.Probe.Report != nil {
		f.Message = fmt.Sprintf("%s forwards to targetPort %d, which no container of the selected pods declares (they declare %s), and no probe connection to an endpoint on it succeeded (see the Probe findings)", label, target, declares)
	}
	for i := range pods {
		why := ""
		switch {
		case answers(&pods[i], target):
			why = "the passing readiness probe of pod " + pods[i].Name + " checks that port"
		case podAnswered(in, &pods[i], target):
			why = "the probe's connection to pod " + pods[i].Name + " on that port succeeded"
		default:
			continue
		}
		// The app listens there; only the declaration is missing.
		f.Severity = SeverityWarning
		f.Message = fmt.Sprintf("%s forwards to targetPort %d, which no container of the selected pods declares (they declare %s); %s, so the app answers there", label, target, declares, why)
		f.Hint = fmt.Sprintf("declare the port in the pod template (ports: [{containerPort: %d}]) so the Service's target is documented", target)
		break
	}
	return []Finding{f}
}

// podAnswered reports whether a --probe connection to one of p's
// addresses on port succeeded.
func podAnswered(in Input, p *corev1.Pod, port int32) bool {
	for _, ip := range p.Status.PodIPs {
		if probeAnswered(in, ip.IP, port) {
			return true
		}
	}
	return p.Status.PodIP != "" && probeAnswered(in, p.Status.PodIP, port)
}

// probedPort is the port the pod's first HTTP or TCP readiness probe
// checks, a named one resolved against the container's ports; 0 if none.
func probedPort(p *corev1.Pod) int32 {
	for _, c := range servingContainers(p) {
		pr := c.ReadinessProbe
		if pr == nil {
			continue
		}
		var port intstr.IntOrString
		switch {
		case pr.HTTPGet != nil:
			port = pr.HTTPGet.Port
		case pr.TCPSocket != nil:
			port = pr.TCPSocket.Port
		default:
			continue
		}
		if port.Type == intstr.Int {
			return port.IntVal
		}
		for _, cp := range c.Ports {
			if cp.Name == port.StrVal {
				return cp.ContainerPort
			}
		}
	}
	return 0
}

// declaredProtocol returns the protocol of the first container port that
// match accepts, or "" when none does.
func declaredProtocol(p *corev1.Pod, match func(corev1.ContainerPort) bool) string {
	for _, c := range servingContainers(p) {
		for _, cp := range c.Ports {
			if match(cp) {
				return string(protocolOf(cp.Protocol))
			}
		}
	}
	return ""
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func limitList(items []string, n int) string {
	if len(items) <= n {
		return strings.Join(items, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(items[:n], ", "), len(items)-n)
}
