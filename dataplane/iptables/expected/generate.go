package expected

import (
	"fmt"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
)

// largeClusterThreshold is the endpoint count above which kube-proxy drops
// comments from endpoint rules to keep the rule set small.
const largeClusterThreshold = 1000

// Generate computes the rules kube-proxy v1.37 writes on node for the given
// Services and EndpointSlices, for node.Family. Objects of the other family,
// headless and ExternalName Services, and slices without a service-name
// label are ignored as kube-proxy ignores them; malformed addresses are
// skipped and reported in Ruleset.Warnings. The inputs are not modified.
func Generate(node Node, services []*corev1.Service, slices []*discoveryv1.EndpointSlice) (*Ruleset, error) {
	c, err := node.resolve()
	if err != nil {
		return nil, err
	}
	g := &generator{c: c, rs: &Ruleset{Family: c.family}}
	g.rs.Services, g.rs.byKey = servicePorts(c, services, g.warn)
	attachEndpoints(c, g.rs.byKey, slices)
	total := 0
	for _, sp := range g.rs.Services {
		total += len(sp.all)
	}
	g.rs.LargeCluster = total > largeClusterThreshold
	g.rs.Filter = make([]Rule, 0, 16)
	g.rs.NAT = make([]Rule, 0, 8+total*3+len(g.rs.Services)*4)
	g.rs.NATChains = make([]string, 0, 4+total+len(g.rs.Services)*2)
	g.rs.Jumps, g.rs.EnsuredChains = jumpRules()
	g.writeHeader()
	for _, sp := range g.rs.Services {
		g.writeServicePort(sp)
	}
	g.writeTrailer()
	return g.rs, nil
}

type generator struct {
	c     *nodeConfig
	rs    *Ruleset
	buf   []byte
	probs []string
}

func (g *generator) warn(format string, args ...any) {
	g.rs.Warnings = append(g.rs.Warnings, fmt.Sprintf(format, args...))
}

// spec joins arguments with single spaces, as kube-proxy's LineBuffer does.
func (g *generator) spec(parts ...string) string {
	g.buf = g.buf[:0]
	for i, p := range parts {
		if i > 0 {
			g.buf = append(g.buf, ' ')
		}
		g.buf = append(g.buf, p...)
	}
	return string(g.buf)
}

func (g *generator) nat(chain string, parts ...string) {
	g.rs.NAT = append(g.rs.NAT, Rule{Table: TableNAT, Chain: chain, Spec: g.spec(parts...)})
}

func (g *generator) filter(chain string, parts ...string) {
	g.rs.Filter = append(g.rs.Filter, Rule{Table: TableFilter, Chain: chain, Spec: g.spec(parts...)})
}

// probability is kube-proxy's 1/n with ten decimals, cached like its
// precomputedProbabilities.
func (g *generator) probability(n int) string {
	for len(g.probs) <= n {
		g.probs = append(g.probs, fmt.Sprintf("%0.10f", 1.0/float64(len(g.probs))))
	}
	return g.probs[n]
}

func (g *generator) writeHeader() {
	c, rs := g.c, g.rs
	rs.FilterChains = append(rs.FilterChains, ChainServices, ChainExternalServices, ChainForward, ChainNodePorts, ChainProxyFirewall)
	rs.NATChains = append(rs.NATChains, ChainServices, ChainNodePorts, ChainPostrouting, ChainMarkMasq)
	g.nat(ChainPostrouting, "-m", "mark", "!", "--mark", c.mark+"/"+c.mark, "-j", "RETURN")
	g.nat(ChainPostrouting, "-j", "MARK", "--xor-mark", c.mark)
	masq := []string{"-m", "comment", "--comment", `"kubernetes service traffic requiring SNAT"`, "-j", "MASQUERADE"}
	if c.randomFully {
		masq = append(masq, "--random-fully")
	}
	g.nat(ChainPostrouting, masq...)
	g.nat(ChainMarkMasq, "-j", "MARK", "--or-mark", c.mark)
	if !c.ipv6 && c.localhostNP {
		rs.FilterChains = append(rs.FilterChains, ChainFirewall)
		g.filter(ChainFirewall, "-m", "comment", "--comment", `"block incoming localnet connections"`,
			"-d", "127.0.0.0/8", "!", "-s", "127.0.0.0/8",
			"-m", "conntrack", "!", "--ctstate", "RELATED,ESTABLISHED,DNAT", "-j", "DROP")
	}
}

func (g *generator) writeTrailer() {
	c := g.c
	const comment = `"kubernetes service nodeports; NOTE: this must be the last rule in this chain"`
	if c.matchAll {
		dst := []string{"-m", "comment", "--comment", comment, "-m", "addrtype", "--dst-type", "LOCAL"}
		if c.ipv6 {
			dst = append(dst, "!", "-d", "::1/128")
		} else if !c.localhostNP {
			dst = append(dst, "!", "-d", "127.0.0.0/8")
		}
		g.nat(ChainServices, append(dst, "-j", ChainNodePorts)...)
	} else {
		for _, ip := range c.nodePortIPs {
			if ip.IsLoopback() && (c.ipv6 || !c.localhostNP) {
				g.warn("nodePortAddresses includes loopback %s, which kube-proxy skips here", ip)
				continue
			}
			g.nat(ChainServices, "-m", "comment", "--comment", comment, "-d", ip.String(), "-j", ChainNodePorts)
		}
	}
	if !c.tcpLiberal {
		if c.nfacct {
			g.filter(ChainForward, "-m", "conntrack", "--ctstate", "INVALID",
				"-m", "nfacct", "--nfacct-name", "ct_state_invalid_dropped_pkts", "-j", "DROP")
		} else {
			g.filter(ChainForward, "-m", "conntrack", "--ctstate", "INVALID", "-j", "DROP")
		}
	}
	g.filter(ChainForward, "-m", "comment", "--comment", `"kubernetes forwarding rules"`,
		"-m", "mark", "--mark", c.mark+"/"+c.mark, "-j", "ACCEPT")
	g.filter(ChainForward, "-m", "comment", "--comment", `"kubernetes forwarding conntrack rule"`,
		"-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED", "-j", "ACCEPT")
}

// jumpRules lists kube-proxy's iptablesJumpChains followed by the kubelet
// duplicates it also ensures, and the chains it creates for them.
func jumpRules() ([]Rule, []ChainRef) {
	const newState = "-m conntrack --ctstate NEW "
	jumps := []Rule{
		{TableFilter, "INPUT", newState + `-m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES`},
		{TableFilter, "FORWARD", newState + `-m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES`},
		{TableFilter, "INPUT", `-m comment --comment "kubernetes health check service ports" -j KUBE-NODEPORTS`},
		{TableFilter, "FORWARD", newState + `-m comment --comment "kubernetes service portals" -j KUBE-SERVICES`},
		{TableFilter, "OUTPUT", newState + `-m comment --comment "kubernetes service portals" -j KUBE-SERVICES`},
		{TableFilter, "FORWARD", `-m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD`},
		{TableFilter, "INPUT", newState + `-m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL`},
		{TableFilter, "OUTPUT", newState + `-m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL`},
		{TableFilter, "FORWARD", newState + `-m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL`},
		{TableNAT, "OUTPUT", `-m comment --comment "kubernetes service portals" -j KUBE-SERVICES`},
		{TableNAT, "PREROUTING", `-m comment --comment "kubernetes service portals" -j KUBE-SERVICES`},
		{TableNAT, "POSTROUTING", `-m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING`},
		{TableFilter, "INPUT", "-j KUBE-FIREWALL"},
		{TableFilter, "OUTPUT", "-j KUBE-FIREWALL"},
	}
	var chains []ChainRef
	seen := map[ChainRef]bool{}
	for _, j := range jumps {
		args := j.Args()
		ref := ChainRef{j.Table, args[len(args)-1]}
		if !seen[ref] {
			seen[ref] = true
			chains = append(chains, ref)
		}
	}
	for _, t := range []string{TableMangle, TableNAT, TableFilter} {
		chains = append(chains, ChainRef{t, ChainCanary})
	}
	return jumps, chains
}

func itoa(n int) string { return strconv.Itoa(n) }
