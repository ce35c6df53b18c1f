package nftables

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"sigs.k8s.io/knftables"

	"github.com/svctrace/kubectl-svctrace/dataplane/endpoints"
)

// Layout selects which release's rule shapes Expected produces.
type Layout string

const (
	// LayoutV137 is kube-proxy v1.37: without ClientIP affinity the
	// service chain DNATs directly ("dnat to ip:port" for one endpoint, a
	// numgen map for several) and hairpin traffic goes through the
	// hairpin-connections set.
	LayoutV137 Layout = "v1.37"
	// LayoutLegacy is v1.29 to v1.35: every endpoint has an endpoint chain
	// and masquerading goes through the mark-for-masquerade chain.
	LayoutLegacy Layout = "legacy"
	// LayoutUnknown is a table of neither: the Proxier compares only what
	// packets meet in it (behaviour), not its shape.
	LayoutUnknown Layout = "unknown"
)

// ExpectOptions describe the node kube-proxy runs on.
type ExpectOptions struct {
	Family      knftables.Family // knftables.IPv4Family (default) or IPv6Family
	NodeName    string           // decides which endpoints are local
	Zone        string           // the node's topology.kubernetes.io/zone, for zone hints
	ClusterCIDR string           // pod CIDR for the "short-circuit pod traffic" rules; optional
	Layout      Layout           // default LayoutV137
}

// ExpectedChain is a chain with the rules kube-proxy writes into it, in the
// form kube-proxy sends them to nft (nft may print them differently).
type ExpectedChain struct {
	Name  string
	Rules []knftables.Rule
}

// add appends rules, each with comment when it is not empty.
func (c *ExpectedChain) add(comment string, rules ...string) {
	for _, text := range rules {
		r := knftables.Rule{Chain: c.Name, Rule: text}
		if comment != "" {
			r.Comment = &comment
		}
		c.Rules = append(c.Rules, r)
	}
}

// ExpectedPort is what kube-proxy writes for one port of a Service.
// Endpoints are the cluster-policy endpoints and LocalEndpoints the local
// ones, both in kube-proxy's order (sorted by "ip:port" text), which is the
// order of the numgen map.
type ExpectedPort struct {
	Name           PortName
	Endpoints      []netip.AddrPort
	LocalEndpoints []netip.AddrPort
	Elements       []knftables.Element
	Chains         []ExpectedChain
	// Sets are the affinity sets of a ClientIP-affinity port, one per
	// endpoint.
	Sets []knftables.Set
}

// ExpectedService is what kube-proxy writes for a Service in one family.
// Ports is empty for headless and ExternalName services.
type ExpectedService struct {
	Namespace, Name string
	Family          knftables.Family
	ClusterIP       netip.Addr
	Ports           []ExpectedPort
}

// Expected computes the map/set elements and chains kube-proxy writes for
// svc and its EndpointSlices.
func Expected(svc *corev1.Service, eps []*discoveryv1.EndpointSlice, opts ExpectOptions) (*ExpectedService, error) {
	if svc == nil {
		return nil, fmt.Errorf("expected rules: no service given")
	}
	if opts.Family == "" {
		opts.Family = knftables.IPv4Family
	}
	if opts.Layout == "" {
		opts.Layout = LayoutV137
	}
	out := &ExpectedService{Namespace: svc.Namespace, Name: svc.Name, Family: opts.Family}
	if svc.Spec.Type == corev1.ServiceTypeExternalName {
		return out, nil
	}
	cip, ok := familyIP(svc.Spec.ClusterIPs, svc.Spec.ClusterIP, opts.Family)
	if !ok {
		return out, nil // headless, or no ClusterIP in this family
	}
	out.ClusterIP = cip
	for _, sp := range svc.Spec.Ports {
		p, err := expectPort(svc, sp, cip, eps, opts)
		if err != nil {
			return nil, fmt.Errorf("service %s/%s port %q: %w", svc.Namespace, svc.Name, sp.Name, err)
		}
		out.Ports = append(out.Ports, p)
	}
	return out, nil
}

func familyIP(ips []string, fallback string, fam knftables.Family) (netip.Addr, bool) {
	if len(ips) == 0 && fallback != "" {
		ips = []string{fallback}
	}
	for _, s := range ips {
		a, err := netip.ParseAddr(strings.TrimSpace(s))
		if err == nil && a.Is4() == (fam == knftables.IPv4Family) {
			return a, true
		}
	}
	return netip.Addr{}, false
}

func protocolOf(sp corev1.ServicePort) corev1.Protocol {
	if sp.Protocol == "" {
		return corev1.ProtocolTCP
	}
	return sp.Protocol
}

func addrPorts(eps []*endpoints.Endpoint) []netip.AddrPort {
	out := make([]netip.AddrPort, len(eps))
	for i, e := range eps {
		out[i] = e.AddrPort
	}
	return out
}

func portString(p int32) string { return strconv.Itoa(int(p)) }
