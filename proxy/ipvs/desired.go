package ipvs

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/svctrace/kubectl-svctrace/dataplane/endpoints"
	model "github.com/svctrace/kubectl-svctrace/dataplane/ipvs"
	"github.com/svctrace/kubectl-svctrace/kernel/ipset"
	"github.com/svctrace/kubectl-svctrace/proxy"
)

// Settings are the kube-proxy flags IPVS mode reads.
type Settings struct {
	// NodeName is this node (--hostname-override).
	NodeName string
	// Scheduler is --ipvs-scheduler; empty means rr.
	Scheduler string
	// ClusterCIDR is --cluster-cidr; without it, traffic from outside
	// the cluster cannot be told apart and ClusterIP masquerading falls
	// back to kube-proxy's src,dst rule.
	ClusterCIDR netip.Prefix
	// MasqueradeAll is --masquerade-all: every connection to a cluster IP
	// is masqueraded, whatever its source.
	MasqueradeAll bool
	// ExcludeCIDRs is --ipvs-exclude-cidrs: what another program keeps in
	// the IPVS table or on the interface at these addresses is left alone.
	ExcludeCIDRs []netip.Prefix
}

// Desired is everything IPVS mode keeps on a node for a set of objects:
// virtual and real servers (the generator the trace judges kube-proxy
// with: dataplane/ipvs.ExpectedFor), the addresses bound to the dummy
// interface, the ip sets' entries and the iptables rules, named in a
// layout.
type Desired struct {
	Table model.Table
	Bound []netip.Addr
	// Sets holds every set's entries, sorted, by the set's name in the layout.
	Sets map[string][]string
	// Rules holds each owned chain's rules as iptables-save prints them.
	Rules map[chainRef][]string
	// ports names each virtual server's Service port, for messages.
	ports  map[string]string
	layout Layout
	// local are the node's addresses outside the dummy interfaces.
	local []netip.Addr
}

// builder collects the entries of kube-proxy's sets under their kube names.
type builder struct {
	s       Settings
	v6      bool
	node    model.Node
	nodeIP  netip.Addr
	entries map[string]map[string]bool
	// noNodeAccess are load-balancer entries ("ip,proto:port") whose
	// source ranges exclude the node: the node must not reach them.
	noNodeAccess []string
}

// Build computes the desired state of the layout's IP family for objs on
// a node whose addresses outside the dummy interfaces are local: what
// kube-proxy's proxier of that family programs.
func Build(objs proxy.Objects, s Settings, local []netip.Addr, l Layout) (*Desired, error) {
	b := &builder{s: s, v6: l.IPv6, entries: map[string]map[string]bool{}}
	b.node = model.Node{Name: s.NodeName, IPs: local, Scheduler: s.Scheduler}
	if objs.Node != nil {
		b.node.Zone = objs.Node.Labels[corev1.LabelTopologyZone]
		b.nodeIP = b.primaryIP(objs.Node)
	}
	if !b.nodeIP.IsValid() {
		for _, a := range local {
			if b.family(a) {
				b.nodeIP = a
				break
			}
		}
	}
	d := &Desired{Sets: map[string][]string{}, ports: map[string]string{}, layout: l, local: local}
	for _, svc := range objs.Services {
		exp, err := model.ExpectedFor(svc, objs.Slices, b.node)
		if err != nil {
			return nil, fmt.Errorf("IPVS state of %s/%s: %w", svc.Namespace, svc.Name, err)
		}
		if exp.Skipped != "" {
			continue
		}
		exp = exp.OfFamily(b.v6)
		for _, vs := range exp.VirtualServers {
			if _, dup := d.ports[vs.Key()]; dup {
				continue // two Services claiming one address and port: the first wins
			}
			d.ports[vs.Key()] = vs.PortName
			d.Table.VirtualServers = append(d.Table.VirtualServers, vs.VirtualServer)
		}
		d.Bound = append(d.Bound, exp.Bound...)
		b.addService(svc, objs)
	}
	d.Table.Sort()
	slices.SortFunc(d.Bound, netip.Addr.Compare)
	d.Bound = slices.Compact(d.Bound)
	for _, a := range d.Bound {
		b.add(setIPVSIPs, a.String())
	}
	for _, si := range setInfos {
		list := make([]string, 0, len(b.entries[si.name]))
		for e := range b.entries[si.name] {
			list = append(list, e)
		}
		slices.Sort(list)
		d.Sets[l.SetName(si.name)] = list
	}
	d.Rules = b.rules(l)
	return d, nil
}

// family reports whether a is of the builder's IP family.
func (b *builder) family(a netip.Addr) bool { return a.Unmap().Is6() == b.v6 }

// primaryIP is the node's first InternalIP of the builder's family.
func (b *builder) primaryIP(n *corev1.Node) netip.Addr {
	for _, a := range n.Status.Addresses {
		if ip, err := netip.ParseAddr(a.Address); err == nil && a.Type == corev1.NodeInternalIP && b.family(ip) {
			return ip.Unmap()
		}
	}
	return netip.Addr{}
}

func (b *builder) add(set, entry string) {
	if e, err := ipset.Canonical(entry); err == nil {
		entry = e
	}
	if b.entries[set] == nil {
		b.entries[set] = map[string]bool{}
	}
	b.entries[set][entry] = true
}

// addService adds one Service's entries of the builder's family to
// kube-proxy's sets, as that family's syncProxyRules does.
func (b *builder) addService(svc *corev1.Service, objs proxy.Objects) {
	cips := b.addrs(clusterIPs(svc))
	if len(cips) == 0 {
		return
	}
	cip := cips[0]
	local := svc.Spec.ExternalTrafficPolicy == corev1.ServiceExternalTrafficPolicyLocal && externallyAccessible(svc)
	for _, port := range svc.Spec.Ports {
		proto := strings.ToLower(string(port.Protocol))
		if proto == "" {
			proto = "tcp"
		}
		ipPort := func(a string) string { return a + "," + proto + ":" + strconv.Itoa(int(port.Port)) }
		for _, e := range endpoints.ForPort(objs.Slices, svc, port, b.v6, b.s.NodeName) {
			if e.Local {
				ip := e.AddrPort.Addr().String()
				b.add(setLoopBack, ip+","+proto+":"+strconv.Itoa(int(e.AddrPort.Port()))+","+ip)
			}
		}
		b.add(setClusterIP, ipPort(cip))
		for _, ext := range b.addrs(svc.Spec.ExternalIPs) {
			if local {
				b.add(setExternalIPLocal, ipPort(ext))
			} else {
				b.add(setExternalIP, ipPort(ext))
			}
		}
		for _, lb := range b.lbVIPs(svc) {
			b.addLoadBalancer(svc, ipPort(lb), lb, local)
		}
		if port.NodePort != 0 && len(b.node.IPs) > 0 {
			b.addNodePort(proto, port.NodePort, local)
		}
		if svc.Spec.HealthCheckNodePort != 0 && svc.Spec.Type == corev1.ServiceTypeLoadBalancer && local {
			b.add(setHealthCheck, strconv.Itoa(int(svc.Spec.HealthCheckNodePort)))
		}
	}
}

func (b *builder) addLoadBalancer(svc *corev1.Service, entry, lb string, local bool) {
	b.add(setLoadBalancer, entry)
	if local {
		b.add(setLoadBalancerLoc, entry)
	}
	ranges := b.prefixes(svc.Spec.LoadBalancerSourceRanges)
	if len(ranges) == 0 {
		return
	}
	b.add(setLoadBalancerFW, entry)
	allowFromNode := false
	for _, r := range ranges {
		b.add(setLBSourceCIDR, entry+","+r.String())
		allowFromNode = allowFromNode || (b.nodeIP.IsValid() && r.Contains(b.nodeIP))
	}
	if allowFromNode {
		b.add(setLBSourceIP, entry+","+lb)
	} else {
		b.noNodeAccess = append(b.noNodeAccess, entry)
	}
}

func (b *builder) addNodePort(proto string, nodePort int32, local bool) {
	np := strconv.Itoa(int(nodePort))
	sets := map[string][2]string{"tcp": {setNodePortTCP, setNodePortLocalTCP}, "udp": {setNodePortUDP, setNodePortLocalUDP}}
	if pair, ok := sets[proto]; ok {
		b.add(pair[0], np)
		if local {
			b.add(pair[1], np)
		}
		return
	}
	// SCTP: hash:ip,port sets, one entry per node address.
	for _, a := range b.node.IPs {
		if !b.family(a) {
			continue
		}
		b.add(setNodePortSCTP, a.String()+",sctp:"+np)
		if local {
			b.add(setNodePortLocSCTP, a.String()+",sctp:"+np)
		}
	}
}

// externallyAccessible is kube-proxy's ExternallyAccessible: the Service
// can be reached from outside the cluster.
func externallyAccessible(svc *corev1.Service) bool {
	return svc.Spec.Type == corev1.ServiceTypeLoadBalancer || svc.Spec.Type == corev1.ServiceTypeNodePort ||
		(svc.Spec.Type == corev1.ServiceTypeClusterIP && len(svc.Spec.ExternalIPs) > 0)
}

func clusterIPs(svc *corev1.Service) []string {
	if len(svc.Spec.ClusterIPs) > 0 {
		return svc.Spec.ClusterIPs
	}
	return []string{svc.Spec.ClusterIP}
}

// addrs are the addresses of the builder's family in raw.
func (b *builder) addrs(raw []string) []string {
	var out []string
	for _, s := range raw {
		if a, err := netip.ParseAddr(s); err == nil && b.family(a) {
			out = append(out, a.Unmap().String())
		}
	}
	return out
}

// prefixes are the networks of the builder's family in raw.
func (b *builder) prefixes(raw []string) []netip.Prefix {
	var out []netip.Prefix
	for _, s := range raw {
		if p, err := netip.ParsePrefix(strings.TrimSpace(s)); err == nil && b.family(p.Addr()) {
			out = append(out, p.Masked())
		}
	}
	return out
}

// lbVIPs are the load-balancer ingress addresses of the builder's family
// in VIP mode.
func (b *builder) lbVIPs(svc *corev1.Service) []string {
	var raw []string
	for _, ing := range svc.Status.LoadBalancer.Ingress {
		if ing.IPMode == nil || *ing.IPMode == corev1.LoadBalancerIPModeVIP {
			raw = append(raw, ing.IP)
		}
	}
	return b.addrs(raw)
}
