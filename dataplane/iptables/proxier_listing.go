package iptables

import (
	"net/netip"
	"sort"
	"strings"

	"github.com/svctrace/kubectl-svctrace/dataplane"
	"github.com/svctrace/kubectl-svctrace/dataplane/iptables/expected"
)

// listKey is a rule's place in a listing: its table, chain and dump line
// (0 for a chain the node lacks).
type listKey struct {
	table, chain string
	line         int
}

// Listings lists the Service's rules of the shared chains of got and every
// per-service chain reachable from them, in walk order, each marked with
// the diff at its place.
func (Proxier) Listings(w *Want, got *Dump, diffs []dataplane.Diff) []dataplane.Listing {
	marks := map[listKey]dataplane.DiffKind{}
	for _, d := range diffs {
		// A missing chain is marked on its empty listing (line 0).
		marks[listKey{d.Where.Table, d.Where.Chain, d.Where.Line}] = d.Kind
	}
	return iptablesChains(got, w.Ruleset, w.Layout, marks)
}

// topChains are the shared chains; only the Service's rules of them are listed.
var topChains = []string{expected.ChainServices, expected.ChainExternalServices, expected.ChainNodePorts, expected.ChainProxyFirewall}

// iptablesChains lists, from d, the Service's rules of the shared chains and
// every per-service chain reachable from them, in walk order.
func iptablesChains(d *Dump, rs *expected.Ruleset, layout expected.Layout, drift map[listKey]dataplane.DiffKind) []dataplane.Listing {
	ids := map[string]bool{}
	var own []string
	portOf := map[string]string{}
	for _, sp := range rs.Services {
		ids[sp.ID] = true
		ids[strings.TrimSuffix(sp.ID, ":")+":"] = true
		for _, c := range sp.OwnChains() {
			own = append(own, c)
			portOf[c] = sp.ID
		}
	}
	var out []dataplane.Listing
	queue := []string{}
	for _, table := range []string{"nat", "filter"} {
		for _, name := range topChains {
			name = layout.Chain(name)
			c := d.Chain(table, name)
			if c == nil {
				continue
			}
			l := dataplane.Listing{Table: table, Name: name}
			for _, r := range c.Rules {
				if ids[commentService(r.Comment())] {
					l.Rules = append(l.Rules, ruleLine(r, drift))
					if isServiceChain(r.Target.Name) {
						queue = append(queue, r.Target.Name)
					}
				}
			}
			if len(l.Rules) > 0 {
				out = append(out, l)
			}
		}
	}
	queue = append(queue, own...)
	out = append(out, serviceChainListings(d, queue, drift)...)
	for i := range out {
		out[i].ServicePort = portOf[out[i].Name]
	}
	return out
}

// serviceChainListings lists nat chains named in queue and those they jump
// to, breadth first, once each; expected chains absent from d are listed
// empty with their drift ID.
func serviceChainListings(d *Dump, queue []string, drift map[listKey]dataplane.DiffKind) []dataplane.Listing {
	var out []dataplane.Listing
	seen := map[string]bool{}
	for len(queue) > 0 {
		name := queue[0]
		queue = queue[1:]
		if seen[name] || !isServiceChain(name) {
			continue
		}
		seen[name] = true
		c := d.Chain("nat", name)
		if c == nil {
			out = append(out, dataplane.Listing{Table: "nat", Name: name, Rules: []dataplane.RuleLine{}, Drift: drift[listKey{"nat", name, 0}]})
			continue
		}
		l := dataplane.Listing{Table: "nat", Name: name}
		for _, r := range c.Rules {
			l.Rules = append(l.Rules, ruleLine(r, drift))
			if isServiceChain(r.Target.Name) {
				queue = append(queue, r.Target.Name)
			}
		}
		out = append(out, l)
	}
	sort.SliceStable(out, func(i, j int) bool { return chainRank(out[i].Name) < chainRank(out[j].Name) })
	return out
}

// chainRank orders chains the way a packet meets them.
func chainRank(name string) int {
	for i, p := range []string{"KUBE-FW-", "KUBE-EXT-", "KUBE-SVC-", "KUBE-SVL-", "KUBE-SEP-"} {
		if strings.HasPrefix(expected.KubeName(name), p) {
			return i
		}
	}
	return 9
}

// commentService extracts "ns/svc:port" from comments such as
// "ns/svc:port cluster IP" or "ns/svc:port -> 10.0.0.1:80".
func commentService(comment string) string {
	first, _, _ := strings.Cut(comment, " ")
	return first
}

// ruleLine lists r with its drift mark and its place: the Service address
// a rule for one matches, the endpoint a DNAT rule sends to.
func ruleLine(r *Rule, drift map[listKey]dataplane.DiffKind) dataplane.RuleLine {
	at := dataplane.Locator{Mode: dataplane.ModeIPTables, Table: r.Table, Chain: r.Chain, Line: r.Line}
	if d := r.Destination; d.IsSet() && !d.Negated && d.Prefix.IsSingleIP() {
		at.Address = d.Prefix.Addr()
	}
	if r.Target.Name == "DNAT" {
		at.Endpoint, _ = netip.ParseAddrPort(r.Target.ToDestination)
	}
	return dataplane.RuleLine{Line: r.Line, Text: r.Text, Drift: drift[listKey{r.Table, r.Chain, r.Line}], Where: at}
}
