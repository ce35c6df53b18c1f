package iptables

import (
	"strings"
)

// OlderLayout lists the signs that got was written by a kube-proxy older
// than the rule layout the generator writes (v1.34 to v1.37 write the
// same), each a short phrase; nil when got shows none. Rules in an older
// layout do the same job with other rules, so comparing them rule by rule
// reports differences a packet never meets: the trace compares them by
// the walks instead.
func (Proxier) OlderLayout(got *Dump) []string {
	nat := got.Table("nat")
	if nat == nil {
		return nil
	}
	var signs []string
	if c := nat.Chain("KUBE-SERVICES"); c != nil {
		for _, r := range c.Rules {
			if r.Target.Name == "KUBE-MARK-MASQ" {
				signs = append(signs, "masquerade marks set in KUBE-SERVICES (current releases set them in each Service's KUBE-SVC chain)")
				break
			}
		}
		for _, r := range c.Rules {
			if name, _, ok := strings.Cut(r.Comment(), " "); ok && strings.HasSuffix(name, ":") && isServiceChain(r.Target.Name) {
				signs = append(signs, "unnamed Service ports spelled \""+name+"\" in comments (current releases write \""+strings.TrimSuffix(name, ":")+"\")")
				break
			}
		}
	}
	// One release writes every load-balancing rule alike: the first says
	// what they all are.
	for _, c := range nat.Chains {
		if !strings.HasPrefix(c.Name, "KUBE-SVC-") {
			continue
		}
		for _, r := range c.Rules {
			if !isSEP(r.Target.Name) || hasRecentCheck(r) {
				continue
			}
			if !strings.Contains(r.Comment(), " -> ") {
				signs = append(signs, "load-balancing rules without the \"-> ENDPOINT\" comment current releases write")
			}
			return signs
		}
	}
	return signs
}
