package expected

import "strings"

// `kubectl-svctrace --serve` beside kube-proxy (without
// --replace-kube-proxy) programs the Services labelled
// service.kubernetes.io/service-proxy-name=svctrace
// (dataplane.ServeProxyName) in kube-proxy's rules with every chain renamed
// from "KUBE-" to ServePrefix. The trace judges such a Service against that
// layout, so both sides name it here.
const (
	// ServePrefix is not "SVCTRACE-": iptables limits chain names to 28
	// characters and kube-proxy's longest (KUBE-SEP- + 16 hash characters
	// = 25) leave room for only three more.
	ServePrefix = "SVCT-"
	kubePrefix  = "KUBE-"
)

// Layout names the chains of a rule set: kube-proxy's own, or the same
// names under another prefix.
type Layout struct {
	// Prefix replaces "KUBE-" in every chain name; "KUBE-" or empty keeps
	// kube-proxy's names.
	Prefix string
}

// The layouts of kube-proxy and of scoped --serve.
var (
	KubeProxyLayout = Layout{Prefix: kubePrefix}
	ServeLayout     = Layout{Prefix: ServePrefix}
)

// Kube reports whether l is kube-proxy's own layout.
func (l Layout) Kube() bool { return l.Prefix == "" || l.Prefix == kubePrefix }

// Chain renames one chain name of kube-proxy's layout.
func (l Layout) Chain(name string) string {
	if l.Kube() || !strings.HasPrefix(name, kubePrefix) {
		return name
	}
	return l.Prefix + name[len(kubePrefix):]
}

// Spec renames every argument of a restore-input rule that names a
// kube-proxy chain or recent list. Comments never contain "KUBE-": they
// hold namespaces and names, which are lower case.
func (l Layout) Spec(spec string) string {
	if l.Kube() || !strings.Contains(spec, kubePrefix) {
		return spec
	}
	f := strings.Split(spec, " ")
	for i, a := range f {
		f[i] = l.Chain(a)
	}
	return strings.Join(f, " ")
}

// KubeName maps a chain of the scoped --serve layout to kube-proxy's name
// for it, so code that knows kube-proxy's chains reads both layouts; other
// names are returned as they are.
func KubeName(chain string) string {
	if rest, ok := strings.CutPrefix(chain, ServePrefix); ok {
		return kubePrefix + rest
	}
	return chain
}

// InLayout returns a copy of rs with every chain, jump target and service
// port chain renamed into l; rs itself is unchanged.
func (rs *Ruleset) InLayout(l Layout) *Ruleset {
	if l.Kube() {
		return rs
	}
	out := *rs
	rename := func(rules []Rule) []Rule {
		o := make([]Rule, len(rules))
		for i, r := range rules {
			o[i] = Rule{Table: r.Table, Chain: l.Chain(r.Chain), Spec: l.Spec(r.Spec)}
		}
		return o
	}
	names := func(chains []string) []string {
		o := make([]string, len(chains))
		for i, c := range chains {
			o[i] = l.Chain(c)
		}
		return o
	}
	out.FilterChains, out.NATChains = names(rs.FilterChains), names(rs.NATChains)
	out.Filter, out.NAT, out.Jumps = rename(rs.Filter), rename(rs.NAT), rename(rs.Jumps)
	out.EnsuredChains = make([]ChainRef, len(rs.EnsuredChains))
	for i, c := range rs.EnsuredChains {
		out.EnsuredChains[i] = ChainRef{Table: c.Table, Chain: l.Chain(c.Chain)}
	}
	out.Services = make([]*ServicePort, len(rs.Services))
	out.byKey = make(map[portKey]*ServicePort, len(rs.byKey))
	for i, sp := range rs.Services {
		c := *sp
		c.Chains.Cluster, c.Chains.Local = l.Chain(sp.Chains.Cluster), l.Chain(sp.Chains.Local)
		c.Chains.External, c.Chains.Firewall = l.Chain(sp.Chains.External), l.Chain(sp.Chains.Firewall)
		c.ClusterEndpoints, c.LocalEndpoints = endpointsIn(l, sp.ClusterEndpoints), endpointsIn(l, sp.LocalEndpoints)
		c.Reachable = endpointsIn(l, sp.Reachable)
		out.Services[i] = &c
		out.byKey[portKey{sp.Namespace, sp.Service, sp.PortName, sp.Protocol}] = &c
	}
	return &out
}

func endpointsIn(l Layout, eps []Endpoint) []Endpoint {
	if eps == nil {
		return nil
	}
	out := make([]Endpoint, len(eps))
	for i, e := range eps {
		e.Chain = l.Chain(e.Chain)
		out[i] = e
	}
	return out
}
