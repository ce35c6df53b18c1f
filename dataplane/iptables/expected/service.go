package expected

// portPlan holds the per-port decisions of syncProxyRules.
type portPlan struct {
	proto, port                     string
	cluster, local, reachable       []*endpointInfo
	hasEndpoints                    bool
	hasInternal, hasExternal        bool
	internalChain, externalPolicy   string
	lbChain                         string
	internalTarget, internalComment string
	externalTarget, externalComment string
}

func (g *generator) plan(sp *ServicePort) *portPlan {
	p := &portPlan{proto: protoString(sp.Protocol), port: itoa(sp.Port)}
	p.cluster, p.local, p.reachable, p.hasEndpoints = categorize(g.c, sp)
	ch := &sp.Chains
	ch.UsesCluster = len(p.cluster) > 0 && sp.usesClusterEndpoints()
	ch.UsesLocal = len(p.local) > 0 && sp.usesLocalEndpoints()
	p.internalChain, p.hasInternal = ch.Cluster, p.hasEndpoints
	if sp.InternalPolicyLocal {
		p.internalChain = ch.Local
		p.hasInternal = p.hasInternal && len(p.local) > 0
	}
	p.externalPolicy, p.hasExternal = ch.Cluster, p.hasEndpoints
	if sp.ExternalPolicyLocal {
		p.externalPolicy = ch.Local
		p.hasExternal = p.hasExternal && len(p.local) > 0
	}
	ch.UsesExternal = p.hasEndpoints && sp.ExternallyAccessible()
	ch.UsesFirewall = p.hasEndpoints && len(sp.LoadBalancerIPs) > 0 && len(sp.SourceRanges) > 0
	p.lbChain = ch.External
	if ch.UsesFirewall {
		p.lbChain = ch.Firewall
	}
	if !p.hasEndpoints {
		p.internalTarget, p.internalComment = "REJECT", `"`+sp.ID+` has no endpoints"`
		p.externalTarget, p.externalComment = p.internalTarget, p.internalComment
	} else {
		if !p.hasInternal {
			p.internalTarget, p.internalComment = "DROP", `"`+sp.ID+` has no local endpoints"`
		}
		if !p.hasExternal {
			p.externalTarget, p.externalComment = "DROP", `"`+sp.ID+` has no local endpoints"`
		}
	}
	sp.HasEndpoints = p.hasEndpoints
	sp.NoLocalInternal = p.hasEndpoints && !p.hasInternal
	sp.NoLocalExternal = p.hasEndpoints && !p.hasExternal && sp.ExternallyAccessible()
	if ch.UsesCluster {
		sp.ClusterEndpoints = g.publicEndpoints(p.cluster)
	}
	if ch.UsesLocal {
		sp.LocalEndpoints = g.publicEndpoints(p.local)
	}
	sp.Reachable = g.publicEndpoints(p.reachable)
	for i := range sp.Reachable {
		sp.Reachable[i].Probability, sp.Reachable[i].Share = "", 0
	}
	return p
}

func (g *generator) publicEndpoints(eps []*endpointInfo) []Endpoint {
	out := make([]Endpoint, len(eps))
	for i, e := range eps {
		out[i] = Endpoint{
			IP: e.ip, Port: e.port, Address: e.addr, Chain: e.chain,
			Local: e.Local, Ready: e.Ready, Serving: e.Serving, Terminating: e.Terminating,
			Share: 1 / float64(len(eps)),
		}
		if i < len(eps)-1 {
			out[i].Probability = g.probability(len(eps) - i)
		}
	}
	return out
}

// writeServicePort writes one service port's rules in the order of the
// loop body of syncProxyRules.
func (g *generator) writeServicePort(sp *ServicePort) {
	p := g.plan(sp)
	g.writeEntryRules(sp, p)
	g.writeInternal(sp, p)
	if sp.Chains.UsesExternal {
		g.writeExternalChain(sp, p)
	}
	if sp.Chains.UsesFirewall {
		g.writeFirewallChain(sp, p)
	}
	if sp.Chains.UsesCluster {
		g.rs.NATChains = append(g.rs.NATChains, sp.Chains.Cluster)
		g.writeEndpointRules(sp, sp.Chains.Cluster, p.cluster)
	}
	if sp.Chains.UsesLocal {
		g.rs.NATChains = append(g.rs.NATChains, sp.Chains.Local)
		g.writeEndpointRules(sp, sp.Chains.Local, p.local)
	}
	for _, ep := range p.reachable {
		g.writeEndpointChain(sp, p, ep)
	}
}

// writeEntryRules captures cluster IP, external IPs, load-balancer IPs,
// node ports and the health-check node port.
func (g *generator) writeEntryRules(sp *ServicePort, p *portPlan) {
	if p.hasInternal {
		g.nat(ChainServices, "-m", "comment", "--comment", `"`+sp.ID+` cluster IP"`,
			"-m", p.proto, "-p", p.proto, "-d", sp.ClusterIP, "--dport", p.port, "-j", p.internalChain)
	} else {
		g.filter(ChainServices, "-m", "comment", "--comment", p.internalComment,
			"-m", p.proto, "-p", p.proto, "-d", sp.ClusterIP, "--dport", p.port, "-j", p.internalTarget)
	}
	for _, ip := range sp.ExternalIPs {
		if p.hasEndpoints {
			g.nat(ChainServices, "-m", "comment", "--comment", `"`+sp.ID+` external IP"`,
				"-m", p.proto, "-p", p.proto, "-d", ip, "--dport", p.port, "-j", sp.Chains.External)
		}
		if !p.hasExternal {
			g.filter(ChainExternalServices, "-m", "comment", "--comment", p.externalComment,
				"-m", p.proto, "-p", p.proto, "-d", ip, "--dport", p.port, "-j", p.externalTarget)
		}
	}
	for _, ip := range sp.LoadBalancerIPs {
		if p.hasEndpoints {
			g.nat(ChainServices, "-m", "comment", "--comment", `"`+sp.ID+` loadbalancer IP"`,
				"-m", p.proto, "-p", p.proto, "-d", ip, "--dport", p.port, "-j", p.lbChain)
		}
		if sp.Chains.UsesFirewall {
			g.filter(ChainProxyFirewall, "-m", "comment", "--comment",
				`"`+sp.ID+` traffic not accepted by `+sp.Chains.Firewall+`"`,
				"-m", p.proto, "-p", p.proto, "-d", ip, "--dport", p.port, "-j", "DROP")
		}
	}
	if !p.hasExternal {
		for _, ip := range sp.LoadBalancerIPs {
			g.filter(ChainExternalServices, "-m", "comment", "--comment", p.externalComment,
				"-m", p.proto, "-p", p.proto, "-d", ip, "--dport", p.port, "-j", p.externalTarget)
		}
	}
	g.writeNodePort(sp, p)
	if sp.HealthCheckNodePort != 0 {
		g.filter(ChainNodePorts, "-m", "comment", "--comment", `"`+sp.ID+` health check node port"`,
			"-m", "tcp", "-p", "tcp", "--dport", itoa(sp.HealthCheckNodePort), "-j", "ACCEPT")
	}
}

func (g *generator) writeNodePort(sp *ServicePort, p *portPlan) {
	if sp.NodePort == 0 {
		return
	}
	np := itoa(sp.NodePort)
	if p.hasEndpoints {
		if g.c.localhostNP && !g.c.ipv6 && g.c.nfacct {
			g.nat(ChainNodePorts, "-m", "comment", "--comment", sp.ID, "-m", p.proto, "-p", p.proto,
				"-d", "127.0.0.0/8", "--dport", np,
				"-m", "nfacct", "--nfacct-name", "localhost_nps_accepted_pkts", "-j", sp.Chains.External)
		}
		g.nat(ChainNodePorts, "-m", "comment", "--comment", sp.ID, "-m", p.proto, "-p", p.proto,
			"--dport", np, "-j", sp.Chains.External)
	}
	if !p.hasExternal {
		g.filter(ChainExternalServices, "-m", "comment", "--comment", p.externalComment,
			"-m", "addrtype", "--dst-type", "LOCAL", "-m", p.proto, "-p", p.proto,
			"--dport", np, "-j", p.externalTarget)
	}
}

// writeInternal writes the masquerade rule at the top of the chain that
// cluster-IP traffic goes to.
func (g *generator) writeInternal(sp *ServicePort, p *portPlan) {
	if !p.hasInternal {
		return
	}
	args := []string{"-m", "comment", "--comment", `"` + sp.ID + ` cluster IP"`,
		"-m", p.proto, "-p", p.proto, "-d", sp.ClusterIP, "--dport", p.port}
	if g.c.masqueradeAll {
		g.nat(p.internalChain, append(args, "-j", ChainMarkMasq)...)
	} else if g.c.ifNotLocal != nil {
		args = append(args, g.c.ifNotLocal...)
		g.nat(p.internalChain, append(args, "-j", ChainMarkMasq)...)
	}
}

func (g *generator) writeExternalChain(sp *ServicePort, p *portPlan) {
	ext := sp.Chains.External
	g.rs.NATChains = append(g.rs.NATChains, ext)
	if !sp.ExternalPolicyLocal {
		g.nat(ext, "-m", "comment", "--comment", `"masquerade traffic for `+sp.ID+` external destinations"`,
			"-j", ChainMarkMasq)
	} else {
		if g.c.ifLocal != nil {
			args := append([]string{"-m", "comment", "--comment",
				`"pod traffic for ` + sp.ID + ` external destinations"`}, g.c.ifLocal...)
			g.nat(ext, append(args, "-j", sp.Chains.Cluster)...)
		}
		g.nat(ext, "-m", "comment", "--comment", `"masquerade LOCAL traffic for `+sp.ID+` external destinations"`,
			"-m", "addrtype", "--src-type", "LOCAL", "-j", ChainMarkMasq)
		g.nat(ext, "-m", "comment", "--comment", `"route LOCAL traffic for `+sp.ID+` external destinations"`,
			"-m", "addrtype", "--src-type", "LOCAL", "-j", sp.Chains.Cluster)
	}
	if p.hasExternal {
		g.nat(ext, "-j", p.externalPolicy)
	}
}

func (g *generator) writeFirewallChain(sp *ServicePort, p *portPlan) {
	fw, ext := sp.Chains.Firewall, sp.Chains.External
	g.rs.NATChains = append(g.rs.NATChains, fw)
	comment := `"` + sp.ID + ` loadbalancer IP"`
	allowFromNode := false
	for _, cidr := range sp.SourceRanges {
		g.nat(fw, "-m", "comment", "--comment", comment, "-s", cidr, "-j", ext)
		if n, err := parseCIDRSloppy(cidr); err == nil && n.Contains(g.c.nodeIP) {
			allowFromNode = true
		}
	}
	// A VIP-style load balancer address is often local to the node, so the
	// node's own requests arrive with the VIP as source.
	if allowFromNode {
		for _, ip := range sp.LoadBalancerIPs {
			g.nat(fw, "-m", "comment", "--comment", comment, "-s", ip, "-j", ext)
		}
	}
	g.nat(fw, "-m", "comment", "--comment", `"other traffic to `+sp.ID+` will be dropped by KUBE-PROXY-FIREWALL"`)
}

// writeEndpointRules writes the affinity and load-balancing rules of a
// KUBE-SVC or KUBE-SVL chain, built by hand as they run once per endpoint.
func (g *generator) writeEndpointRules(sp *ServicePort, chain string, eps []*endpointInfo) {
	comment := func(ep *endpointInfo) {
		g.buf = g.buf[:0]
		if !g.rs.LargeCluster {
			g.buf = append(g.buf, `-m comment --comment "`...)
			g.buf = append(append(append(g.buf, sp.ID...), " -> "...), ep.addr...)
			g.buf = append(g.buf, `" `...)
		}
	}
	if sp.AffinityTimeout != 0 {
		secs := itoa(sp.AffinityTimeout)
		for _, ep := range eps {
			comment(ep)
			g.buf = append(append(append(g.buf, "-m recent --name "...), ep.chain...), " --rcheck --seconds "...)
			g.buf = append(append(append(g.buf, secs...), " --reap -j "...), ep.chain...)
			g.rs.NAT = append(g.rs.NAT, Rule{Table: TableNAT, Chain: chain, Spec: string(g.buf)})
		}
	}
	n := len(eps)
	for i, ep := range eps {
		comment(ep)
		if i < n-1 {
			g.buf = append(g.buf, "-m statistic --mode random --probability "...)
			g.buf = append(append(g.buf, g.probability(n-i)...), ' ')
		}
		g.buf = append(append(g.buf, "-j "...), ep.chain...)
		g.rs.NAT = append(g.rs.NAT, Rule{Table: TableNAT, Chain: chain, Spec: string(g.buf)})
	}
}

func (g *generator) writeEndpointChain(sp *ServicePort, p *portPlan, ep *endpointInfo) {
	g.rs.NATChains = append(g.rs.NATChains, ep.chain)
	// Built by hand: this runs once per endpoint of the cluster.
	g.buf = g.buf[:0]
	if !g.rs.LargeCluster {
		g.buf = append(g.buf, "-m comment --comment "...)
		g.buf = append(g.buf, sp.ID...)
		g.buf = append(g.buf, ' ')
	}
	mark := len(g.buf)
	g.buf = append(append(append(g.buf, "-s "...), ep.ip...), " -j KUBE-MARK-MASQ"...)
	g.rs.NAT = append(g.rs.NAT, Rule{Table: TableNAT, Chain: ep.chain, Spec: string(g.buf)})
	g.buf = g.buf[:mark]
	if sp.AffinityTimeout != 0 {
		g.buf = append(append(append(g.buf, "-m recent --name "...), ep.chain...), " --set "...)
	}
	g.buf = append(append(append(append(g.buf, "-m "...), p.proto...), " -p "...), p.proto...)
	g.buf = append(append(g.buf, " -j DNAT --to-destination "...), ep.addr...)
	g.rs.NAT = append(g.rs.NAT, Rule{Table: TableNAT, Chain: ep.chain, Spec: string(g.buf)})
}
