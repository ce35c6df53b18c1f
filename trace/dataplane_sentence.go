package trace

import (
	"fmt"

	"github.com/svctrace/kubectl-svctrace/dataplane"
	"github.com/svctrace/kubectl-svctrace/dataplane/iptables"
	"github.com/svctrace/kubectl-svctrace/dataplane/iptables/expected"
	"github.com/svctrace/kubectl-svctrace/dataplane/ipvs"
	"github.com/svctrace/kubectl-svctrace/dataplane/nftables"
	"github.com/svctrace/kubectl-svctrace/internal/textfmt"
)

// diffDetail says what d means for traffic, from its kind and facts.
func diffDetail(d dataplane.Diff) string {
	if d.Skipped {
		return skippedDetail(d)
	}
	if d.Kind == dataplane.WalkOutcomeDiffers {
		return walkDetail(d)
	}
	if s, ok := iptablesDetail(d); ok {
		return s
	}
	if s, ok := nftablesDetail(d); ok {
		return s
	}
	if s, ok := ipvsDetail(d); ok {
		return s
	}
	return string(d.Kind)
}

// skippedDetail says what a node holds for a Service kube-proxy skips.
func skippedDetail(d dataplane.Diff) string {
	labels := "(labelled " + dataplane.LabelServiceProxyName + " or " + dataplane.LabelHeadless + ")"
	switch d.Where.Mode {
	case dataplane.ModeIPVS:
		return fmt.Sprintf("virtual server %s for %s exists, but kube-proxy skips the Service %s", d.Where.Chain, d.Service, labels)
	case dataplane.ModeNFTables:
		if d.Whole {
			return fmt.Sprintf("chain %s of %s exists, but kube-proxy skips the Service %s", d.Where.Chain, d.Service, labels)
		}
		return fmt.Sprintf("%s holds an element for %s, but kube-proxy skips the Service %s", d.Where.Set, d.Service, labels)
	}
	return "rule or chain for a Service kube-proxy skips " + labels + ": left from before the label, or written by another proxy in kube-proxy's names"
}

// staleRulesCause is why rules for a Service kube-proxy has nothing for
// remain.
const staleRulesCause = "should have no rules for; left by a stopped kube-proxy or one in another mode"

func iptablesDetail(d dataplane.Diff) (string, bool) {
	at := d.Where
	switch d.Kind {
	case iptables.StaleProxyRules:
		if d.Whole {
			return "chain for a Service kube-proxy " + staleRulesCause, true
		}
		return "rule for a Service kube-proxy " + staleRulesCause, true
	case iptables.NoEndpointsRejectRule:
		// Without a REJECT the packet leaves untranslated for the Service
		// address, which nothing answers: clients wait for a timeout where
		// kube-proxy would have refused them.
		effect := "so clients time out instead of being refused"
		if d.WantTarget == "DROP" {
			effect = "so the node does not drop what kube-proxy drops there"
		}
		return fmt.Sprintf("%s rule for %q is missing, %s", d.WantTarget, d.Service, effect), true
	case iptables.ServiceChainMissing:
		if d.Whole {
			return fmt.Sprintf("chain %s is missing; traffic matching the Service entry cannot be load-balanced", at.Chain), true
		}
		return fmt.Sprintf("KUBE-SERVICES has no rule sending %q to %s, so its packets are not load-balanced", d.Service, d.WantTarget), true
	case iptables.KubeServicesEntryMissing:
		return fmt.Sprintf("no %s %s rule for %q", at.Table, at.Chain, d.Service), true
	case iptables.StaleServiceRule:
		switch {
		case expected.IsServiceChain(at.Chain):
			return fmt.Sprintf("rule in %s that kube-proxy would not write", at.Chain), true
		case d.Target == "REJECT" || d.Target == "DROP":
			return fmt.Sprintf("%s rule although the Service should be served; traffic is refused", d.Target), true
		}
		return "rule kube-proxy would not write for this Service", true
	case iptables.StaleServiceChain:
		return fmt.Sprintf("chain %s is not expected for this Service", at.Chain), true
	case iptables.EndpointChainMissing:
		if d.Whole {
			return fmt.Sprintf("ready endpoint %s has no chain %s; it gets no traffic", d.TargetEndpoint, at.Chain), true
		}
		return fmt.Sprintf("no rule sends traffic to %s (endpoint %s); it gets none of the new connections", d.WantTarget, d.TargetEndpoint), true
	case iptables.ProbabilityMismatch:
		return fmt.Sprintf("endpoint chain %s gets %s of new connections, want %s", d.Target, textfmt.Percent(d.Share), textfmt.Percent(d.WantShare)), true
	case iptables.StaleEndpointChain:
		if d.Whole {
			return fmt.Sprintf("endpoint chain %s (DNAT to %s) is not for a ready endpoint", at.Chain, endpointOrUnknown(d)), true
		}
		return fmt.Sprintf("%s of new connections go to %s (endpoint %s), which is not a ready endpoint", textfmt.Percent(d.Share), d.Target, endpointOrUnknown(d)), true
	case iptables.ServiceRuleMissing:
		return fmt.Sprintf("rule missing from %s", at.Chain), true
	case iptables.DNATTargetMismatch:
		return fmt.Sprintf("DNAT to %s, want %s", d.Target, d.WantTarget), true
	case iptables.ServicePortalsJumpMissing:
		from := map[string]string{"PREROUTING": "pods or outside", "OUTPUT": "the node itself"}[at.Chain]
		return fmt.Sprintf("nat %s does not jump to %s; no Service rule is reached from %s", at.Chain, d.WantTarget, from), true
	}
	return "", false
}

// endpointOrUnknown is the endpoint a chain DNATs to, or why it is unknown.
func endpointOrUnknown(d dataplane.Diff) string {
	switch {
	case d.TargetMissing:
		return "unknown: chain missing"
	case d.TargetEndpoint == "":
		return "unknown"
	}
	return d.TargetEndpoint
}

func nftablesDetail(d dataplane.Diff) (string, bool) {
	at := d.Where
	switch d.Kind {
	case nftables.NFTServiceMissing:
		if d.Whole {
			return fmt.Sprintf("chain %s is missing; the map element pointing at it fails", at.Chain), true
		}
		return fmt.Sprintf("%s has no element for %s; traffic to it is not load-balanced. Check kube-proxy's logs for sync errors.", at.Set, d.Service), true
	case nftables.NFTEndpointMissing:
		switch {
		case d.Whole:
			return fmt.Sprintf("endpoint chain %s is missing", at.Chain), true
		case d.Of > 0:
			return fmt.Sprintf("%s: numgen map has no element for %d of %d numgen values (%s): %.3g%% of new connections to %s are not translated. Check kube-proxy's logs for sync errors.",
				at.Chain, len(d.Missing), d.Of, textfmt.ShortList(d.Missing, 5), 100*d.Lost, d.Service), true
		}
		return fmt.Sprintf("ready endpoint %s of %s receives no traffic from %s", at.Endpoint, d.Service, at.Chain), true
	case nftables.NFTEndpointStale:
		return fmt.Sprintf("%s still sends %s traffic to %s, which is not a ready endpoint", at.Chain, d.Service, at.Endpoint), true
	case nftables.NFTElementMissing:
		return fmt.Sprintf("%s lacks the element kube-proxy writes for %s", at.Set, d.Service), true
	case nftables.NFTElementWrongTarget:
		return fmt.Sprintf("%s sends %s to %q instead of %q", at.Set, d.Service, d.Actual, d.Expected), true
	case nftables.NFTElementStale:
		return fmt.Sprintf("%s still holds an element for %s that kube-proxy would have removed", at.Set, d.Service), true
	}
	return "", false
}

func ipvsDetail(d dataplane.Diff) (string, bool) {
	vs, rs := d.Where.Chain, d.Where.Endpoint
	switch d.Kind {
	case ipvs.VirtualServerMissing:
		return fmt.Sprintf("kube-proxy has not programmed %s %s %s: connections to it are not load-balanced; check kube-proxy's log and that it runs in ipvs mode", d.Service, d.Role, vs), true
	case ipvs.SchedulerMismatch:
		return fmt.Sprintf("%s uses scheduler %q, kube-proxy's is %q: another program edits IPVS, or kube-proxy's --ipvs-scheduler differs from what was assumed", vs, d.Actual, d.Expected), true
	case ipvs.PersistenceMismatch:
		return fmt.Sprintf("%s session affinity does not match the Service's sessionAffinity: kube-proxy has not synced the change", vs), true
	case ipvs.RealServerMissing:
		return fmt.Sprintf("endpoint %s of %s is ready but not a real server of %s: it gets no traffic through this path", rs, d.Service, vs), true
	case ipvs.ForwardMismatch:
		return fmt.Sprintf("real server %s forwards by %s, kube-proxy uses %s: replies may bypass the node", rs, d.Actual, d.Expected), true
	case ipvs.StaleRealServer:
		return fmt.Sprintf("real server %s of %s is not a current endpoint of %s: connections sent there fail; kube-proxy has not synced or another program added it", rs, vs, d.Service), true
	case ipvs.WeightMismatch:
		msg := fmt.Sprintf("real server %s of %s has weight %d, kube-proxy sets %d", rs, vs, d.Weight, d.WantWeight)
		switch {
		case d.WantWeight == 0:
			msg += ": a terminating endpoint still receives new connections"
		case d.Weight == 0:
			msg += ": a ready endpoint receives no new connections"
		}
		return msg, true
	case ipvs.AddressNotBound:
		return fmt.Sprintf("%s of %s is not bound to %s nor to any other interface: the node routes packets to it on instead of taking them, so IPVS never balances them", d.Where.Address, d.Service, ipvs.DummyInterface), true
	}
	return "", false
}

// expectedText is what belongs at d's place, in words where d holds no
// value: an iptables rule or chain says it all; elsewhere a place with no
// expected value should be absent, or present when d says it is missing.
func expectedText(d dataplane.Diff) string {
	switch d.Kind {
	case nftables.NFTEndpointMissing:
		switch {
		case d.Of > 0:
			return fmt.Sprintf("a map element for each of %d numgen values", d.Of)
		case !d.Whole:
			return "dnat target of " + d.Where.Chain
		}
	case ipvs.VirtualServerMissing:
		return "virtual server for " + d.Service + " " + d.Role
	case ipvs.RealServerMissing, ipvs.WeightMismatch:
		return fmt.Sprintf("weight %d", d.WantWeight)
	case ipvs.AddressNotBound:
		return "bound to " + ipvs.DummyInterface
	}
	switch {
	case d.Expected != "" || d.Where.Mode == dataplane.ModeIPTables:
		return d.Expected
	case d.Kind == nftables.NFTServiceMissing || d.Kind == nftables.NFTEndpointMissing || d.Kind == nftables.NFTElementMissing:
		return "present"
	}
	return "absent"
}

// actualText is what the node has at d's place, in words where d holds no
// value: absent, unless d is about what the node holds.
func actualText(d dataplane.Diff) string {
	switch d.Kind {
	case nftables.NFTEndpointMissing:
		if d.Of > 0 {
			return "no element for " + textfmt.ShortList(d.Missing, 5)
		}
	case nftables.NFTEndpointStale:
		return "dnat target of " + d.Where.Chain
	case ipvs.StaleRealServer, ipvs.WeightMismatch:
		return fmt.Sprintf("weight %d", d.Weight)
	case ipvs.AddressNotBound:
		return "not a local address"
	}
	switch {
	case d.Actual != "" || d.Where.Mode == dataplane.ModeIPTables:
		return d.Actual
	case d.Kind == nftables.NFTElementStale || d.Skipped:
		return "present"
	}
	return "absent"
}
