package dns

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
)

// endpointAddr is one ready address of an EndpointSlice, with the ports of
// its slice: CoreDNS pairs every address with every port of the same slice.
type endpointAddr struct {
	ip    string
	host  string // endpointHostname: slice hostname, else the dashed IP
	pod   string
	ports []discoveryv1.EndpointPort
}

// ownSlices returns the slices CoreDNS indexes under the Service: labelled
// with its name, in its namespace.
func ownSlices(svc *corev1.Service, all []*discoveryv1.EndpointSlice) []*discoveryv1.EndpointSlice {
	var out []*discoveryv1.EndpointSlice
	for _, s := range all {
		if s == nil || s.Namespace != svc.Namespace || s.Labels[discoveryv1.LabelServiceName] != svc.Name {
			continue
		}
		out = append(out, s)
	}
	return out
}

// collectEndpoints mirrors object.EndpointSliceToEndpoints: endpoints whose
// ready condition is false are dropped (nil counts as ready). The
// EndpointSlice controller already folds publishNotReadyAddresses into that
// condition, so CoreDNS never reads the Service field itself.
func (e *Expectation) collectEndpoints(svc *corev1.Service, all []*discoveryv1.EndpointSlice) []endpointAddr {
	var out []endpointAddr
	staleNotReady := 0
	for _, s := range ownSlices(svc, all) {
		if s.AddressType == discoveryv1.AddressTypeFQDN {
			e.Notes = append(e.Notes, fmt.Sprintf("EndpointSlice %s/%s has addressType FQDN, which is deprecated; its endpoints are not modelled", s.Namespace, s.Name))
			continue
		}
		for _, ep := range s.Endpoints {
			ready := ep.Conditions.Ready == nil || *ep.Conditions.Ready
			for _, ip := range ep.Addresses {
				a := endpointAddr{ip: ip, host: endpointHostname(ep.Hostname, ip), ports: s.Ports}
				if ep.TargetRef != nil && ep.TargetRef.Kind == "Pod" {
					a.pod = ep.TargetRef.Name
				}
				if ready {
					out = append(out, a)
					continue
				}
				if svc.Spec.PublishNotReadyAddresses {
					staleNotReady++
				}
				e.NotReady = append(e.NotReady, NotReadyAddress{IP: ip, Name: fqdn(a.host + "." + e.FQDN), Pod: a.pod})
			}
		}
	}
	if staleNotReady > 0 {
		e.Notes = append(e.Notes, fmt.Sprintf("publishNotReadyAddresses is true but %d EndpointSlice address(es) still say ready=false; CoreDNS follows the slice, so they are not served until the EndpointSlice controller updates them", staleNotReady))
	}
	return out
}

// endpointHostname is plugin/kubernetes endpointHostname with
// endpoint_pod_names off: the slice hostname, else the IP with dashes
// ("fd00::" becomes "fd00--0" because a label may not end in a dash).
func endpointHostname(hostname *string, ip string) string {
	if hostname != nil && *hostname != "" {
		return *hostname
	}
	if strings.Contains(ip, ".") {
		return strings.ReplaceAll(ip, ".", "-")
	}
	if strings.Contains(ip, ":") {
		h := strings.ReplaceAll(ip, ":", "-")
		if strings.HasSuffix(h, "-") {
			h += "0"
		}
		return h
	}
	return ""
}

// explainPods notes pods whose hostname/subdomain asks for a per-pod name
// that CoreDNS will not serve, so "pod-0.web" NXDOMAINs have a reason.
func (e *Expectation) explainPods(svc *corev1.Service, pods []*corev1.Pod, all []*discoveryv1.EndpointSlice) {
	inSlice := map[string]*discoveryv1.Endpoint{}
	for _, s := range ownSlices(svc, all) {
		for i := range s.Endpoints {
			ep := &s.Endpoints[i]
			if ep.TargetRef != nil && ep.TargetRef.Kind == "Pod" {
				inSlice[ep.TargetRef.Name] = ep
			}
		}
	}
	for _, p := range pods {
		if p == nil || p.Namespace != svc.Namespace || p.Spec.Subdomain != svc.Name {
			continue
		}
		name := fqdn(p.Spec.Hostname + "." + e.FQDN)
		ep, ok := inSlice[p.Name]
		switch {
		case p.Spec.Hostname == "":
			e.Notes = append(e.Notes, fmt.Sprintf("pod %s has subdomain %q but no spec.hostname, so its endpoint is named by its dashed IP, not by the pod name", p.Name, svc.Name))
		case !ok:
			e.Notes = append(e.Notes, fmt.Sprintf("pod %s asks for %s but is in no EndpointSlice of the service (labels vs selector?), so the name does not exist", p.Name, name))
		case ep.Hostname == nil || *ep.Hostname != p.Spec.Hostname:
			e.Notes = append(e.Notes, fmt.Sprintf("pod %s asks for %s but its EndpointSlice entry has hostname %q; CoreDNS serves what the slice says", p.Name, name, deref(ep.Hostname)))
		case ep.Conditions.Ready != nil && !*ep.Conditions.Ready:
			e.Notes = append(e.Notes, fmt.Sprintf("pod %s is not ready, so %s is not served", p.Name, name))
		}
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
