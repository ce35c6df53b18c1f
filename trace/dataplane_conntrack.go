package trace

import (
	"net/netip"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/svctrace/kubectl-svctrace/dataplane/conntrack"
)

func joinAddrPorts(list []netip.AddrPort) string {
	s := make([]string, len(list))
	for i, a := range list {
		s[i] = a.String()
	}
	return strings.Join(s, ", ")
}

// conntrackFindings flags flows still DNATed to endpoints that are gone.
// kube-proxy clears UDP flows of removed endpoints itself and leaves TCP
// to time out, so a TCP flow counts as stale only when its backend is no
// endpoint at all; a UDP one also when the endpoint no longer serves.
func conntrackFindings(in Input, t *Trace) []Finding {
	var vips []conntrack.ServiceVIP
	for i, sp := range in.Service.Spec.Ports {
		proto := protocolOf(sp.Protocol)
		var eps []netip.AddrPort
		for _, e := range t.Ports[i].Endpoints {
			if ip, err := netip.ParseAddr(e.Address); err == nil && (proto == corev1.ProtocolTCP || e.Ready || e.Serving) {
				eps = append(eps, netip.AddrPortFrom(ip, uint16(e.Port)))
			}
		}
		add := func(addr string, port int32) {
			if ip, err := netip.ParseAddr(addr); err == nil && port != 0 {
				vips = append(vips, conntrack.ServiceVIP{Service: in.Namespace + "/" + in.Name + ":" + portKey(sp),
					Protocol: string(proto), VIP: netip.AddrPortFrom(ip, uint16(port)), Endpoints: eps})
			}
		}
		for _, a := range append(append(append([]string{}, t.Service.ClusterIPs...), t.Service.ExternalIPs...), t.Service.LoadBalancerIPs...) {
			add(a, sp.Port)
		}
		for _, n := range t.Nodes {
			add(n.InternalIP, sp.NodePort)
		}
	}
	var out []Finding
	for _, f := range conntrack.FindStale(in.Dataplane.Conntrack, vips) {
		now := "no entry: the service has no endpoints"
		if len(f.Endpoints) > 0 {
			now = "its endpoints now: " + joinAddrPorts(f.Endpoints)
		}
		where := f.Where
		out = append(out, Finding{ID: f.ID, Severity: severityOf(f.ID), Subject: "conntrack/" + f.Subject,
			Message: f.Message + "; " + now, Hint: "delete only this stale flow on the node: " + f.Command, Where: &where})
	}
	return out
}
