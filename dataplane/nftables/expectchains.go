package nftables

import (
	"fmt"
	"strings"

	"github.com/svctrace/kubectl-svctrace/dataplane/endpoints"
)

// chains lists the per-service chains kube-proxy writes for the port, with
// their rules, in the order kube-proxy creates them.
func (pl *portPlan) chains(opts ExpectOptions) []ExpectedChain {
	ipX := "ip"
	if pl.clusterIP.Is6() {
		ipX = "ip6"
	}
	masq := masqueradeRuleV137
	if opts.Layout == LayoutLegacy {
		masq = masqueradeJumpLegacy
	}
	svcChain, localChain := ServiceChain(pl.name), LocalChain(pl.name)
	// Before v1.36 the chain ClusterIP traffic takes (the local one under
	// a Local internal policy) masquerades what comes from outside the
	// cluster CIDR, when it has endpoints.
	masqOffCluster := func(c *ExpectedChain, eps []*endpoints.Endpoint) {
		if opts.Layout == LayoutLegacy && opts.ClusterCIDR != "" && len(eps) > 0 {
			c.add("", fmt.Sprintf("%s daddr %s %s saddr != %s %s", ipX, pl.clusterIP, ipX, opts.ClusterCIDR, masq))
		}
	}
	var out []ExpectedChain
	if pl.usesCluster {
		c := ExpectedChain{Name: svcChain}
		if !pl.internalLocal {
			masqOffCluster(&c, pl.cluster)
		}
		c.add("", pl.dispatch(opts, pl.cluster, ipX)...)
		out = append(out, c)
	}
	if pl.usesLocal {
		c := ExpectedChain{Name: localChain}
		if pl.internalLocal {
			masqOffCluster(&c, pl.local)
		}
		c.add("", pl.dispatch(opts, pl.local, ipX)...)
		out = append(out, c)
	}
	if pl.usesExtern {
		out = append(out, pl.externalChain(opts, ipX, masq))
	}
	if len(pl.lbIPs) > 0 && len(pl.sourceRanges) > 0 {
		c := ExpectedChain{Name: FirewallChain(pl.name)}
		c.add("", fmt.Sprintf("%s saddr != { %s } drop", ipX, strings.Join(pl.sourceRanges, ", ")))
		out = append(out, c)
	}
	if pl.affinity || opts.Layout == LayoutLegacy {
		for _, e := range pl.reachable {
			out = append(out, pl.endpointChain(opts, e, ipX, masq))
		}
	}
	return out
}

// dispatch is the endpoint selection in a service/local chain.
func (pl *portPlan) dispatch(opts ExpectOptions, eps []*endpoints.Endpoint, ipX string) []string {
	if !pl.affinity && opts.Layout == LayoutV137 {
		if len(eps) == 1 {
			return []string{fmt.Sprintf("meta l4proto %s dnat to %s", pl.proto, eps[0].AddrPort)}
		}
		elems := make([]string, len(eps))
		for i, e := range eps {
			elems[i] = fmt.Sprintf("%d : %s . %d", i, e.AddrPort.Addr(), e.AddrPort.Port())
		}
		return []string{fmt.Sprintf("meta l4proto %s dnat %s addr . port to numgen random mod %d map { %s }",
			pl.proto, ipX, len(eps), strings.Join(elems, " , "))}
	}
	var rules, elems []string
	for i, e := range eps {
		if pl.affinity {
			rules = append(rules, fmt.Sprintf("%s saddr @%s goto %s", ipX, AffinitySet(pl.name, e.AddrPort), EndpointChain(pl.name, e.AddrPort)))
		}
		elems = append(elems, fmt.Sprintf("%d : goto %s", i, EndpointChain(pl.name, e.AddrPort)))
	}
	return append(rules, fmt.Sprintf("numgen random mod %d vmap { %s }", len(eps), strings.Join(elems, " , ")))
}

func (pl *portPlan) externalChain(opts ExpectOptions, ipX, masq string) ExpectedChain {
	c := ExpectedChain{Name: ExternalChain(pl.name)}
	svcChain := ServiceChain(pl.name)
	if !pl.externalLocal {
		comment := "masquerade" // v1.36 and later; before, the jump had none
		if opts.Layout == LayoutLegacy {
			comment = ""
		}
		c.add(comment, masq)
	} else {
		if opts.ClusterCIDR != "" {
			c.add("short-circuit pod traffic", fmt.Sprintf("%s saddr %s goto %s", ipX, opts.ClusterCIDR, svcChain))
		}
		c.add("masquerade local traffic", fmt.Sprintf("fib saddr type local %s", masq))
		c.add("short-circuit local traffic", fmt.Sprintf("fib saddr type local goto %s", svcChain))
	}
	if pl.hasExt {
		target := svcChain
		if pl.externalLocal {
			target = LocalChain(pl.name)
		}
		c.add("", fmt.Sprintf("goto %s", target))
	}
	return c
}

func (pl *portPlan) endpointChain(opts ExpectOptions, e *endpoints.Endpoint, ipX, masq string) ExpectedChain {
	c := ExpectedChain{Name: EndpointChain(pl.name, e.AddrPort)}
	if opts.Layout == LayoutLegacy {
		c.add("", fmt.Sprintf("%s saddr %s %s", ipX, e.AddrPort.Addr(), masq))
	}
	if pl.affinity {
		c.add("", fmt.Sprintf("update @%s { %s saddr }", AffinitySet(pl.name, e.AddrPort), ipX))
	}
	c.add("", fmt.Sprintf("meta l4proto %s dnat to %s", pl.proto, e.AddrPort))
	return c
}
