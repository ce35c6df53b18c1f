package proxy

import (
	"context"
	"fmt"
	"net/netip"
	"reflect"
	"slices"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"

	"github.com/svctrace/kubectl-svctrace/dataplane"
	model "github.com/svctrace/kubectl-svctrace/dataplane/conntrack"
	"github.com/svctrace/kubectl-svctrace/dataplane/endpoints"
	kconntrack "github.com/svctrace/kubectl-svctrace/kernel/conntrack"
)

// StaleFlows deletes, after each sync, the UDP conntrack entries that
// kube-proxy deletes after each of its syncs (pkg/proxy/conntrack,
// CleanStaleEntries): an entry to a served Service's address or node port
// whose reply comes from no serving endpoint of that port. Every datagram
// refreshes a UDP entry, so without this a client keeps sending to a pod
// that is gone, or to nothing when its first datagram met the Service
// without endpoints, for as long as it keeps talking (DNS clients do).
// TCP entries are left to time out, as kube-proxy leaves them.
//
// kube-proxy lists the conntrack table at every sync. A listing walks the
// kernel's whole hash table (milliseconds even when it is nearly empty),
// so Clean lists it only when it may find something new: at a full sync,
// and when the UDP addresses, node ports or their serving endpoints
// changed since the last listing that succeeded. Between those, a stale
// entry can only appear for a Service without endpoints (a client's
// datagram to it is tracked untranslated), and such entries are deleted
// when the Service gains endpoints, which is a change.
type StaleFlows struct {
	CT kconntrack.Interface
	// ProxyName selects the Services whose flows are cleaned, as
	// dataplane.Objects.ForProxy does: "" for kube-proxy's.
	ProxyName string

	// last are the targets of the last listing that succeeded.
	last *udpTargets
}

// udpTargets are the serving endpoint addresses behind each UDP Service
// address and each UDP node port.
type udpTargets struct {
	byAddr     map[netip.Addr]map[netip.Addr]bool
	byNodePort map[uint16]map[netip.Addr]bool
}

// Clean deletes the stale UDP entries for objs and says how many it
// deleted; full says the sync was a full one.
func (s *StaleFlows) Clean(ctx context.Context, objs Objects, full bool) (int, error) {
	t := udpTargetsOf(objs, s.ProxyName)
	if len(t.byAddr) == 0 && len(t.byNodePort) == 0 {
		// Forgotten, so that a UDP Service coming back as it was (its
		// clients' untranslated entries waiting) is a change.
		s.last = nil
		return 0, nil
	}
	if !full && s.last != nil && reflect.DeepEqual(*s.last, t) {
		return 0, nil
	}
	s.last = nil
	entries, err := s.CT.List(ctx)
	if err != nil {
		return 0, fmt.Errorf("clean stale UDP flows: %w", err)
	}
	n := 0
	if filters := t.staleFilters(entries); len(filters) > 0 {
		if n, err = s.CT.Delete(ctx, filters...); err != nil {
			return n, fmt.Errorf("clean stale UDP flows: %w", err)
		}
	}
	s.last = &t
	return n, nil
}

// staleFilters are kube-proxy's filters for entries: one per UDP entry
// whose original destination is a Service address, or whose original
// destination port is a node port, and whose reply source serves neither.
func (t udpTargets) staleFilters(entries []model.Entry) []kconntrack.Filter {
	seen := map[kconntrack.Filter]bool{}
	var out []kconntrack.Filter
	add := func(f kconntrack.Filter) {
		if !seen[f] {
			seen[f] = true
			out = append(out, f)
		}
	}
	for _, e := range entries {
		if e.Protocol != "udp" {
			continue
		}
		reply := e.Reply.Src.Unmap()
		if eps, ok := t.byAddr[e.Original.Dst.Unmap()]; ok && !eps[reply] {
			add(kconntrack.Filter{Protocol: "udp", Dest: e.Original.Dst, ReplySource: e.Reply.Src})
		}
		if eps, ok := t.byNodePort[e.Original.DPort]; ok && !eps[reply] {
			add(kconntrack.Filter{Protocol: "udp", DestPort: e.Original.DPort, ReplySource: e.Reply.Src})
		}
	}
	return out
}

// udpTargetsOf reads the UDP ports of the Services proxy serves, in both
// IP families: their cluster IPs, external IPs and load-balancer IPs, and
// their node ports, each with the addresses of the port's serving
// endpoints (ready or not, terminating or not, on any node).
func udpTargetsOf(objs Objects, proxy string) udpTargets {
	t := udpTargets{byAddr: map[netip.Addr]map[netip.Addr]bool{}, byNodePort: map[uint16]map[netip.Addr]bool{}}
	// Most Services are TCP: their slices are not read at all.
	type key struct{ namespace, name string }
	var udp []*corev1.Service
	has := map[key]bool{}
	for _, svc := range objs.Services {
		if svc.Spec.Type != corev1.ServiceTypeExternalName && svc.Spec.ClusterIP != corev1.ClusterIPNone &&
			dataplane.ServedBy(svc.Labels, proxy) && slices.ContainsFunc(svc.Spec.Ports, isUDP) {
			udp = append(udp, svc)
			has[key{svc.Namespace, svc.Name}] = true
		}
	}
	if len(udp) == 0 {
		return t
	}
	var own []*discoveryv1.EndpointSlice
	for _, sl := range objs.Slices {
		if has[key{sl.Namespace, sl.Labels[discoveryv1.LabelServiceName]}] && dataplane.ServedBy(sl.Labels, proxy) {
			own = append(own, sl)
		}
	}
	var byPort [2]map[endpoints.PortKey][]*endpoints.Endpoint
	for i, ipv6 := range []bool{false, true} {
		byPort[i] = endpoints.ReadAll(own, ipv6, "")
	}
	for _, svc := range udp {
		for _, p := range svc.Spec.Ports {
			if p.Protocol != corev1.ProtocolUDP {
				continue
			}
			serving := map[netip.Addr]bool{}
			for _, fam := range byPort {
				for _, e := range fam[endpoints.PortKey{Namespace: svc.Namespace, Service: svc.Name, Port: p.Name, Protocol: p.Protocol}] {
					if e.Serving {
						serving[e.AddrPort.Addr().Unmap()] = true
					}
				}
			}
			for _, a := range serviceAddrs(svc) {
				t.byAddr[a] = serving
			}
			if p.NodePort != 0 {
				t.byNodePort[uint16(p.NodePort)] = serving
			}
		}
	}
	return t
}

func isUDP(p corev1.ServicePort) bool { return p.Protocol == corev1.ProtocolUDP }

// serviceAddrs are a Service's cluster IPs, external IPs and the
// load-balancer IPs kube-proxy programs (VIP mode), as the generators read
// them.
func serviceAddrs(svc *corev1.Service) []netip.Addr {
	var list []string
	list = append(list, svc.Spec.ClusterIPs...)
	if len(svc.Spec.ClusterIPs) == 0 {
		list = append(list, svc.Spec.ClusterIP)
	}
	list = append(list, svc.Spec.ExternalIPs...)
	for _, in := range svc.Status.LoadBalancer.Ingress {
		if in.IPMode == nil || *in.IPMode == corev1.LoadBalancerIPModeVIP {
			list = append(list, in.IP)
		}
	}
	var out []netip.Addr
	for _, s := range list {
		if a, ok := endpoints.ParseAddrSloppy(s); ok {
			out = append(out, a.Unmap())
		}
	}
	return out
}
