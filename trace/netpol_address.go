package trace

import (
	"fmt"

	"github.com/svctrace/kubectl-svctrace/dataplane"
	"github.com/svctrace/kubectl-svctrace/netpol"
)

// addressClient is the client of --from node or --from IP, taken from the
// packet the dataplane hop walked first: an address only an ipBlock
// matches, and for a node, the node whose own pods always admit it. An
// external client counts only with a given address (a made-up one says
// nothing about ipBlocks); an address the trace places inside a pod
// network is no pod it knows, so it is left out.
func addressClient(in Input, t *Trace) (netpol.Peer, string, bool) {
	d := in.Dataplane
	if d == nil || (d.From == 0 && !d.FromIP.IsValid()) {
		return netpol.Peer{}, "", false
	}
	if d.From == dataplane.EntryExternal && d.FromIP.IsValid() {
		return netpol.Peer{IP: d.FromIP.String()}, d.FromIP.String(), true
	}
	for _, h := range t.Dataplane {
		if len(h.Walks) == 0 {
			continue
		}
		p := h.Walks[0].Packet
		switch {
		case p.From == dataplane.EntryNode:
			ip := nodeAddress(in, t, h.Node)
			if ip == "" {
				return netpol.Peer{}, "", false
			}
			return netpol.Peer{Node: h.Node, IP: ip}, fmt.Sprintf("node/%s (%s)", h.Node, ip), true
		case p.From == dataplane.EntryExternal && d.FromIP.IsValid():
			return netpol.Peer{IP: d.FromIP.String()}, d.FromIP.String(), true
		}
		return netpol.Peer{}, "", false
	}
	return netpol.Peer{}, "", false
}

// nodeAddress is the address a node's connections to pods elsewhere
// carry as a rule: --node's addresses, else its InternalIP. (A plugin
// that tunnels may use its tunnel's address instead.)
func nodeAddress(in Input, t *Trace, node string) string {
	if len(in.Dataplane.NodeIPs) > 0 {
		return in.Dataplane.NodeIPs[0].String()
	}
	for _, n := range t.Nodes {
		if n.Name == node {
			return n.InternalIP
		}
	}
	return ""
}

// addressFindings report the endpoints whose ingress policies admit no
// rule for a node's or an outside address.
func addressFindings(in Input, c *PolicyClient) []Finding {
	var denied []PolicyConnection
	policies := map[string]bool{}
	for _, x := range c.Connections {
		if x.Ingress.Verdict == string(netpol.Denied) {
			denied = append(denied, x)
			for _, p := range x.Ingress.Policies {
				policies[p] = true
			}
		}
	}
	if len(denied) == 0 {
		return nil
	}
	names := sortedKeys(policies)
	ip := c.Connections[0].Source
	peer := map[string]any{"ipBlock": map[string]string{"cidr": hostCIDR(ip, []string{ip})}}
	return []Finding{{ID: NetworkPolicyBlocks, Severity: SeverityError, Subject: fmt.Sprintf(networkPolicySubjectFmt, names[0]),
		Message: fmt.Sprintf("%s may not connect to %s: %s %s %s for ingress and no rule admits the address (a node or a client outside the cluster is matched by ipBlock rules only, and a node's connections may carry its tunnel's address instead, depending on the plugin); %s",
			c.From, connectionList(denied), policiesPhrase(names), verb(names, "select"), plural(len(dedupe(podsOf(denied))), "it", "them"), enforcementNote),
		Hint: "add a rule admitting the address: " +
			policySnippet(in.Namespace, snippetName("allow", ip, "to", in.Name), in.Service.Spec.Selector, netpol.Ingress, peer, policyPorts(denied...))}}
}
