package trace

import (
	"fmt"
	"strings"

	"github.com/svctrace/kubectl-svctrace/netpol"
	"github.com/svctrace/kubectl-svctrace/probe"
)

// Finding IDs about NetworkPolicies.
const (
	NetworkPolicyBlocks     = "NetworkPolicyBlocks"
	NetworkPolicyBlocksDNS  = "NetworkPolicyBlocksDNS"
	NetworkPolicyRestricts  = "NetworkPolicyRestricts"
	NetworkPolicyUndecided  = "NetworkPolicyUndecided"
	networkPolicySubjectFmt = "networkpolicy/%s"
)

func networkPolicyFindings(in Input, t *Trace) []Finding {
	h := t.NetworkPolicy
	if h == nil {
		return nil
	}
	if h.Client == nil {
		return admissionFindings(in, h)
	}
	if h.Client.From != "" {
		if fs := addressFindings(in, h.Client); len(fs) > 0 {
			return fs
		}
		return admissionFindings(in, h)
	}
	var out []Finding
	out = append(out, blockFindings(in, h.Client)...)
	if f, ok := dnsBlockFinding(in, h.Client); ok {
		out = append(out, f)
	}
	if len(out) == 0 && h.Client.restricted() {
		out = append(out, admittedFinding(in, h.Client))
	}
	return out
}

// admittedFinding names what lets the client through: rules, or its
// being on the endpoints' node.
func admittedFinding(in Input, c *PolicyClient) Finding {
	var reasons []string
	for _, x := range c.Connections {
		reasons = append(reasons, x.Ingress.AllowedBy...)
		reasons = append(reasons, x.Egress.AllowedBy...)
	}
	if reasons = dedupe(reasons); len(reasons) > 0 {
		reasons[0] = "admitted by " + reasons[0]
	}
	for _, x := range c.Connections {
		if x.Ingress.OwnNode {
			reasons = append(reasons, "traffic from a pod's own node is always allowed")
			break
		}
	}
	return Finding{ID: NetworkPolicyRestricts, Severity: SeverityInfo, Subject: "pod/" + in.FromPod.Name,
		Message: fmt.Sprintf("pod %s may connect to every endpoint (%s): %s; %s", c.Pod, connectionList(c.Connections), joinList(reasons), enforcementNote),
		Hint:    "if connections still time out, run with --probe to see where they stop"}
}

// admissionFindings say, without a client, who may reach the Service's
// pods: one finding per port and set of admitted clients.
func admissionFindings(in Input, h *NetworkPolicyHop) []Finding {
	type group struct {
		port     PolicyPort
		pods     []string
		policies map[string]bool
	}
	var groups []*group
	byKey := map[string]*group{}
	for _, p := range h.Pods {
		for _, port := range p.Ports {
			k := fmt.Sprint(port.Protocol, port.Port, port.Clients)
			g := byKey[k]
			if g == nil {
				g = &group{port: port, policies: map[string]bool{}}
				byKey[k] = g
				groups = append(groups, g)
			}
			g.pods = append(g.pods, p.Pod)
			for _, pol := range p.Policies {
				g.policies[pol] = true
			}
		}
	}
	var out []Finding
	for _, g := range groups {
		policies := sortedKeys(g.policies)
		f := Finding{ID: NetworkPolicyRestricts, Severity: SeverityInfo, Subject: fmt.Sprintf(networkPolicySubjectFmt, policies[0])}
		on := fmt.Sprintf("%s %d", g.port.Protocol, g.port.Port)
		who := "only " + strings.Join(g.port.Clients, "; ") + " on " + on
		if len(g.port.Clients) == 0 {
			f.Severity = SeverityWarning
			who = "no client on " + on + " (only the pods' own nodes, e.g. kubelet probes)"
		} else if g.port.Clients[0] == "any client" && len(g.port.Clients) == 1 {
			who = "any client on " + on
		}
		f.Message = fmt.Sprintf("%s %s %s %s for ingress and %s %s; %s",
			policiesPhrase(policies), verb(policies, "select"), plural(len(g.pods), "pod", "pods"), joinList(g.pods), verb(policies, "admit"), who, enforcementNote)
		f.Hint = fmt.Sprintf("trace from a client with --from pod/NAME to see whether it may connect; kubectl describe networkpolicy -n %s", in.Namespace)
		out = append(out, f)
	}
	return out
}

// blockFindings report the client's denied or undecided connections: one
// finding for the endpoints' ingress, one for the client's egress.
func blockFindings(in Input, c *PolicyClient) []Finding {
	var ingress, egress, undecided []PolicyConnection
	for _, x := range c.Connections {
		switch {
		case x.Ingress.Verdict == string(netpol.Denied):
			ingress = append(ingress, x)
		case x.Egress.Verdict == string(netpol.Denied):
			egress = append(egress, x)
		case x.Verdict == string(netpol.Unknown):
			undecided = append(undecided, x)
		}
		if x.Ingress.Verdict == string(netpol.Denied) && x.Egress.Verdict == string(netpol.Denied) {
			egress = append(egress, x)
		}
	}
	var out []Finding
	if len(ingress) > 0 {
		policies := map[string]bool{}
		for _, x := range ingress {
			for _, p := range x.Ingress.Policies {
				policies[p] = true
			}
		}
		names := sortedKeys(policies)
		peer := podPeer(in.Namespace, in.FromPod.Namespace, stableLabels(in.FromPod.Labels))
		if in.FromPod.Spec.HostNetwork {
			peer = map[string]any{"ipBlock": map[string]string{"cidr": hostCIDR(ingress[0].Address, clientIPs(in))}}
		}
		out = append(out, probeConfirms(in, ingress, Finding{ID: NetworkPolicyBlocks, Severity: SeverityError, Subject: fmt.Sprintf(networkPolicySubjectFmt, names[0]),
			Message: fmt.Sprintf("pod %s may not connect to %s: %s %s %s for ingress and no rule admits the client; %s",
				c.Pod, connectionList(ingress), policiesPhrase(names), verb(names, "select"), plural(len(dedupe(podsOf(ingress))), "it", "them"), enforcementNote),
			Hint: "add a rule admitting the client (or fix the labels a rule names): " +
				policySnippet(in.Namespace, snippetName("allow", in.FromPod.Name, "to", in.Name), in.Service.Spec.Selector, netpol.Ingress, peer, policyPorts(ingress...)) + "."}))
	}
	if len(egress) > 0 {
		peer := podPeer(in.FromPod.Namespace, in.Namespace, in.Service.Spec.Selector)
		out = append(out, probeConfirms(in, egress, Finding{ID: NetworkPolicyBlocks, Severity: SeverityError, Subject: "pod/" + in.FromPod.Name,
			Message: fmt.Sprintf("pod %s may not connect to %s: %s %s it for egress and no egress rule admits the connection; %s",
				c.Pod, connectionList(egress), policiesPhrase(c.EgressPolicies), verb(c.EgressPolicies, "select"), enforcementNote),
			Hint: "add an egress rule for the client: " +
				policySnippet(in.FromPod.Namespace, snippetName("allow", in.FromPod.Name, "to", in.Name), stableLabels(in.FromPod.Labels), netpol.Egress, peer, policyPorts(egress...)) + "."}))
	}
	if len(undecided) > 0 {
		var rules []string
		for _, x := range undecided {
			rules = append(rules, x.Ingress.Undecided...)
			rules = append(rules, x.Egress.Undecided...)
		}
		out = append(out, Finding{ID: NetworkPolicyUndecided, Severity: SeverityWarning, Subject: "pod/" + in.FromPod.Name,
			Message: fmt.Sprintf("whether pod %s may connect to %s depends on rules %s, whose namespaceSelector needs namespace labels that could not be read; %s",
				c.Pod, connectionList(undecided), joinList(dedupe(rules)), enforcementNote),
			Hint: "grant get on namespaces (deploy/clusterrole.yaml), or compare the selector with kubectl get namespace --show-labels"})
	}
	return out
}

// probeConfirms weighs a blocking finding against what a --probe from
// the client saw on the same connections: timeouts confirm a policy that
// drops; connections that all got through mean the network plugin does
// not enforce it (yet), so the finding is a warning. Without such a probe,
// the hint suggests one.
func probeConfirms(in Input, cs []PolicyConnection, f Finding) Finding {
	var ok, dropped, other []string
	for _, x := range cs {
		name := connectionList([]PolicyConnection{x})
		switch probeSaw(in, x.Address, x.Port) {
		case "":
			f.Hint += " A --probe from the client would confirm it: a policy that drops shows as a timeout."
			return f
		case probe.OK:
			ok = append(ok, name)
		case probe.TimedOut:
			dropped = append(dropped, name)
		default:
			other = append(other, name)
		}
	}
	switch {
	case len(ok) == len(cs):
		f.Severity = SeverityWarning
		f.Message += fmt.Sprintf(". Yet the probe from the client connected to %s: the network plugin does not enforce this policy, and the connections will fail once one does", joinList(ok))
	case len(dropped) > 0:
		f.Message += fmt.Sprintf(". The probe from the client timed out connecting to %s, as a policy that drops makes it", joinList(dropped))
	}
	if len(other) > 0 {
		f.Message += fmt.Sprintf(". The probe's connections to %s failed otherwise (see the probe's findings)", joinList(other))
	}
	return f
}

// probeSaw is how the probe's connection from the --from pod to addr:port
// ended; "" when no probe ran from that pod or it did not try addr:port.
func probeSaw(in Input, addr string, port int32) probe.Outcome {
	obs := in.Probe
	if obs == nil || obs.Report == nil || obs.Site.Where != "pod/"+in.FromPod.Namespace+"/"+in.FromPod.Name {
		return ""
	}
	for _, r := range obs.Report.Results {
		if r.Target.Kind == probe.KindEndpoint && r.Target.Addr.Addr().String() == addr && int32(r.Target.Addr.Port()) == port {
			return r.Outcome
		}
	}
	return ""
}

// dnsBlockFinding reports a client none of whose DNS queries over UDP
// both leaves (its egress policies) and is admitted (kube-system's ingress
// policies on the kube-dns pods): names do not resolve.
func dnsBlockFinding(in Input, c *PolicyClient) (Finding, bool) {
	var udp, egressDenied, ingressDenied []PolicyConnection
	var ingressPolicies []string
	for _, x := range c.DNS {
		if x.Protocol == "UDP" {
			if x.Verdict != string(netpol.Denied) {
				return Finding{}, false
			}
			udp = append(udp, x)
		}
		if x.Egress.Verdict == string(netpol.Denied) {
			egressDenied = append(egressDenied, x)
		}
		if x.Ingress.Verdict == string(netpol.Denied) {
			ingressDenied = append(ingressDenied, x)
			ingressPolicies = append(ingressPolicies, x.Ingress.Policies...)
		}
	}
	if len(udp) == 0 {
		return Finding{}, false
	}
	var why, hints []string
	if len(egressDenied) > 0 {
		why = append(why, fmt.Sprintf("%s %s pod %s for egress and %s no DNS query reach the kube-dns pods (%s)",
			policiesPhrase(c.EgressPolicies), verb(c.EgressPolicies, "select"), c.Pod, verb(c.EgressPolicies, "let"), connectionList(egressDenied)))
		peer := podPeer(in.FromPod.Namespace, dnsNamespaceName, in.KubeDNS.Spec.Selector)
		hints = append(hints, "allow DNS egress: "+policySnippet(in.FromPod.Namespace, snippetName("allow-dns", in.FromPod.Name), stableLabels(in.FromPod.Labels), netpol.Egress, peer, policyPorts(c.DNS...)))
	}
	if len(ingressDenied) > 0 {
		ingressPolicies = dedupe(ingressPolicies)
		why = append(why, fmt.Sprintf("%s %s the kube-dns pods for ingress and %s no DNS query from pod %s (%s)",
			policiesPhrase(ingressPolicies), verb(ingressPolicies, "select"), verb(ingressPolicies, "admit"), c.Pod, connectionList(ingressDenied)))
		peer := podPeer(dnsNamespaceName, in.FromPod.Namespace, stableLabels(in.FromPod.Labels))
		hints = append(hints, "admit the client's queries in "+dnsNamespaceName+": "+policySnippet(dnsNamespaceName, snippetName("allow-dns-from", in.FromPod.Namespace, in.FromPod.Name), in.KubeDNS.Spec.Selector, netpol.Ingress, peer, policyPorts(c.DNS...)))
	}
	return Finding{ID: NetworkPolicyBlocksDNS, Severity: SeverityError, Subject: "pod/" + in.FromPod.Name,
		Message: strings.Join(why, "; ") + ", so the Service's name does not resolve from it; " + enforcementNote,
		Hint:    strings.Join(hints, "; ")}, true
}

// dnsNamespaceName is where the cluster DNS runs.
const dnsNamespaceName = "kube-system"

// policiesPhrase names policies as the subject of a sentence.
func policiesPhrase(names []string) string {
	if len(names) == 1 {
		return "NetworkPolicy " + names[0]
	}
	return "NetworkPolicies " + joinList(names)
}

// verb agrees v with policiesPhrase(names).
func verb(names []string, v string) string {
	if len(names) == 1 {
		return v + "s"
	}
	return v
}

func podsOf(cs []PolicyConnection) []string {
	var out []string
	for _, x := range cs {
		out = append(out, x.Pod+" "+x.Address)
	}
	return out
}

// connectionList names connections as pod (address:port/proto).
func connectionList(cs []PolicyConnection) string {
	var items []string
	for _, x := range cs {
		s := fmt.Sprintf("%s/%s", hostPort(x.Address, x.Port), x.Protocol)
		if x.Pod != "" {
			s = x.Pod + " (" + s + ")"
		}
		items = append(items, s)
	}
	return joinList(dedupe(items))
}

func hostPort(addr string, port int32) string {
	if strings.Contains(addr, ":") {
		return fmt.Sprintf("[%s]:%d", addr, port)
	}
	return fmt.Sprintf("%s:%d", addr, port)
}

// hostCIDR is the client's address, of the endpoint's family, as a /32 or /128.
func hostCIDR(like string, ips []string) string {
	ip := familyIP(ips, like)
	if strings.Contains(ip, ":") {
		return ip + "/128"
	}
	return ip + "/32"
}

func dedupe(items []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range items {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
