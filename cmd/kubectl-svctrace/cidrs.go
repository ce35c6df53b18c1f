package main

import (
	"fmt"
	"net/netip"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// clusterCIDRs is kube-proxy's --cluster-cidr: one CIDR, or on a
// dual-stack node one of each family separated by a comma.
type clusterCIDRs map[corev1.IPFamily]netip.Prefix

func parseClusterCIDRs(s string) (clusterCIDRs, error) {
	out := clusterCIDRs{}
	if s == "" {
		return out, nil
	}
	for _, part := range strings.Split(s, ",") {
		p, err := netip.ParsePrefix(strings.TrimSpace(part))
		if err != nil {
			return nil, fmt.Errorf("bad --cluster-cidr %q: use a CIDR such as 10.244.0.0/16, or one of each family such as 10.244.0.0/16,fd00:10:244::/56", s)
		}
		f := corev1.IPv4Protocol
		if p.Addr().Is6() && !p.Addr().Is4In6() {
			f = corev1.IPv6Protocol
		}
		if _, dup := out[f]; dup {
			return nil, fmt.Errorf("bad --cluster-cidr %q: two %s CIDRs; give at most one of each family", s, f)
		}
		out[f] = p.Masked()
	}
	return out, nil
}

// first is the CIDR the trace compares a single dump with: the IPv4 one
// when both are given, as kube-proxy lists the primary family first.
func (c clusterCIDRs) first() netip.Prefix {
	if p, ok := c[corev1.IPv4Protocol]; ok {
		return p
	}
	return c[corev1.IPv6Protocol]
}
