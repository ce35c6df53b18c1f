package trace

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/svctrace/kubectl-svctrace/probe"
)

func portHops(svc *corev1.Service, slices []discoveryv1.EndpointSlice, pods []corev1.Pod) []PortHop {
	var out []PortHop
	for _, sp := range svc.Spec.Ports {
		h := PortHop{
			Name:       sp.Name,
			Protocol:   string(protocolOf(sp.Protocol)),
			Port:       sp.Port,
			TargetPort: targetPortString(sp),
			NodePort:   sp.NodePort,
			Endpoints:  endpointsFor(sp, slices),
		}
		if sp.TargetPort.Type == intstr.String {
			h.Resolved = map[string]int32{}
			for i := range pods {
				if n, ok := resolveTargetPort(&pods[i], sp); ok {
					h.Resolved[pods[i].Name] = n
				}
			}
		}
		out = append(out, h)
	}
	return out
}

// markNotServing marks the endpoints of each numeric targetPort whose pod
// declares other container ports while nothing shows the port answering:
// neither the pod's passing readiness probe nor a --probe connection.
func markNotServing(in Input, t *Trace) {
	byName := map[string]*corev1.Pod{}
	for i := range in.Pods {
		byName[in.Pods[i].Name] = &in.Pods[i]
	}
	for i, sp := range in.Service.Spec.Ports {
		if sp.TargetPort.Type == intstr.String {
			continue // a named port that does not resolve gets no endpoint at all
		}
		eps := t.Ports[i].Endpoints
		for j := range eps {
			p := byName[eps[j].Pod]
			if p == nil {
				continue
			}
			target, _ := resolveTargetPort(p, sp)
			if probeAnswered(in, eps[j].Address, target) {
				continue
			}
			if others := undeclared(p, target, protocolOf(sp.Protocol)); len(others) > 0 {
				eps[j].NotServing = fmt.Sprintf("pod %s declares %s, not %d/%s", p.Name, strings.Join(others, ", "), target, protocolOf(sp.Protocol))
			}
		}
	}
}

// probeAnswered reports whether a --probe connection to addr:port
// succeeded.
func probeAnswered(in Input, addr string, port int32) bool {
	if in.Probe == nil || in.Probe.Report == nil {
		return false
	}
	for _, r := range in.Probe.Report.Results {
		if r.Target.Kind == probe.KindEndpoint && r.Outcome == probe.OK && r.Target.Addr.Addr().String() == addr && int32(r.Target.Addr.Port()) == port {
			return true
		}
	}
	return false
}

// undeclared lists the container ports p declares when none of them is
// port/proto and no passing readiness probe checks port; nil otherwise.
func undeclared(p *corev1.Pod, port int32, proto corev1.Protocol) []string {
	if answers(p, port) {
		return nil
	}
	var out []string
	for _, c := range servingContainers(p) {
		for _, cp := range c.Ports {
			if cp.ContainerPort == port && protocolOf(cp.Protocol) == proto {
				return nil
			}
			out = append(out, fmt.Sprintf("%d/%s", cp.ContainerPort, protocolOf(cp.Protocol)))
		}
	}
	return out
}

// answers reports whether p is ready and its readiness probe checks port:
// the kubelet's probe is then evidence that the port answers.
func answers(p *corev1.Pod, port int32) bool {
	return podReady(p) && probedPort(p) == port
}

func protocolOf(p corev1.Protocol) corev1.Protocol {
	if p == "" {
		return corev1.ProtocolTCP
	}
	return p
}

func targetPortString(sp corev1.ServicePort) string {
	switch {
	case sp.TargetPort.Type == intstr.String:
		return sp.TargetPort.StrVal
	case sp.TargetPort.IntVal == 0:
		return fmt.Sprint(sp.Port)
	default:
		return fmt.Sprint(sp.TargetPort.IntVal)
	}
}

// resolveTargetPort finds the number a Service port's targetPort means on a
// pod, the way the EndpointSlice controller does: a named port matches a
// container port with that name and the Service port's protocol.
func resolveTargetPort(p *corev1.Pod, sp corev1.ServicePort) (int32, bool) {
	if sp.TargetPort.Type != intstr.String {
		if sp.TargetPort.IntVal == 0 {
			return sp.Port, true
		}
		return sp.TargetPort.IntVal, true
	}
	for _, c := range servingContainers(p) {
		for _, cp := range c.Ports {
			if cp.Name == sp.TargetPort.StrVal && protocolOf(cp.Protocol) == protocolOf(sp.Protocol) {
				return cp.ContainerPort, true
			}
		}
	}
	return 0, false
}

// endpointsFor collects the endpoints published for one Service port: slice
// ports are named after the Service port and carry its protocol.
func endpointsFor(sp corev1.ServicePort, slices []discoveryv1.EndpointSlice) []EndpointHop {
	var out []EndpointHop
	for i := range slices {
		s := &slices[i]
		port, ok := slicePort(s, sp)
		if !ok {
			continue
		}
		for _, e := range s.Endpoints {
			for _, addr := range e.Addresses {
				h := EndpointHop{
					Address:     addr,
					Port:        port,
					Ready:       endpointReady(e),
					Serving:     endpointServing(e),
					Terminating: endpointTerminating(e),
					Slice:       s.Name,
				}
				if e.TargetRef != nil && e.TargetRef.Kind == "Pod" {
					h.Pod = e.TargetRef.Name
				}
				if e.NodeName != nil {
					h.Node = *e.NodeName
				}
				if e.Zone != nil {
					h.Zone = *e.Zone
				}
				if e.Hostname != nil {
					h.Hostname = *e.Hostname
				}
				out = append(out, h)
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return addrLess(out[i].Address, out[j].Address) })
	return out
}

func slicePort(s *discoveryv1.EndpointSlice, sp corev1.ServicePort) (int32, bool) {
	for _, p := range s.Ports {
		name := ""
		if p.Name != nil {
			name = *p.Name
		}
		proto := corev1.ProtocolTCP
		if p.Protocol != nil {
			proto = *p.Protocol
		}
		if name == sp.Name && proto == protocolOf(sp.Protocol) && p.Port != nil {
			return *p.Port, true
		}
	}
	return 0, false
}

// addrLess orders IP addresses numerically so 10.0.0.9 sorts before 10.0.0.10.
func addrLess(a, b string) bool {
	x, errX := netip.ParseAddr(a)
	y, errY := netip.ParseAddr(b)
	if errX != nil || errY != nil {
		return a < b
	}
	return x.Less(y)
}

// servingContainers are the containers whose ports a Service can target:
// the regular ones and native sidecars (init containers with
// restartPolicy Always), as the EndpointSlice controller's FindPort searches.
func servingContainers(p *corev1.Pod) []corev1.Container {
	out := append([]corev1.Container(nil), p.Spec.Containers...)
	for _, c := range p.Spec.InitContainers {
		if isSidecar(c) {
			out = append(out, c)
		}
	}
	return out
}

func isSidecar(c corev1.Container) bool {
	return c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways
}
