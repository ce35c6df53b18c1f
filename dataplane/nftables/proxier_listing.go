package nftables

import (
	"net/netip"
	"strconv"
	"strings"

	"github.com/svctrace/kubectl-svctrace/dataplane"
)

// markNFTDrift marks the nftables chain listings with the differences, so a
// reader sees the stale DNAT target or the missing one where it belongs.
// Element differences, which belong to no service chain, get a listing of
// their own.
func markNFTDrift(chains []dataplane.Listing, diffs []dataplane.Diff, table string) []dataplane.Listing {
	find := func(name string) *dataplane.Listing {
		for i := range chains {
			if chains[i].Name == name {
				return &chains[i]
			}
		}
		return nil
	}
	var elements []dataplane.RuleLine
	for _, d := range diffs {
		id, at := d.Kind, d.Where
		switch {
		case at.Endpoint.IsValid() && d.Kind == NFTEndpointStale:
			if c := find(at.Chain); c != nil {
				markTarget(c, at.Endpoint, id)
			}
		case at.Endpoint.IsValid():
			if c := find(at.Chain); c != nil {
				c.Rules = append(c.Rules, dataplane.RuleLine{Text: "missing: dnat to " + at.Endpoint.String(), Drift: id, Kind: dataplane.LineMissing, Where: at})
			}
		case at.Set == "" && find(at.Chain) != nil:
			if c := find(at.Chain); c.Drift == "" {
				c.Drift = id
			}
		default:
			elements = append(elements, elementLine(d))
		}
	}
	if len(elements) > 0 {
		chains = append(chains, dataplane.Listing{Table: table, Name: "(set and map elements)", Rules: elements, Drift: elements[0].Drift, Kind: dataplane.ListingElements})
	}
	return chains
}

// elementLine lists the element a diff is about: the node's, or the one
// it lacks.
func elementLine(d dataplane.Diff) dataplane.RuleLine {
	l := dataplane.RuleLine{Text: Place(d.Where), Drift: d.Kind, Where: d.Where}
	switch {
	case d.Kind == NFTServiceMissing || d.Kind == NFTElementMissing:
		l.Kind, l.Text = dataplane.LineMissing, "missing: "+l.Text
		if d.Expected != "" {
			l.Text += " : " + d.Expected
		}
	default:
		l.Text += " : " + d.Actual
	}
	return l
}

// markTarget marks the rules of c that DNAT to the endpoint ep, written
// "ip:port" in a plain dnat and "ip . port" in a numgen map.
func markTarget(c *dataplane.Listing, ep netip.AddrPort, id dataplane.DiffKind) {
	forms := []string{ep.String(), ep.Addr().String() + " . " + strconv.Itoa(int(ep.Port()))}
	for i, r := range c.Rules {
		for _, f := range forms {
			if (r.Where.Endpoint == ep || strings.Contains(r.Text, f)) && c.Rules[i].Drift == "" {
				c.Rules[i].Drift = id
			}
		}
	}
}

// nftListings lists the chains kube-proxy writes for the Service as the
// node has them; a missing one is marked.
func nftListings(exp *ExpectedService, table *Table, tableName string) []dataplane.Listing {
	var out []dataplane.Listing
	for _, p := range exp.Ports {
		for _, ec := range p.Chains {
			l := dataplane.Listing{Table: tableName, Name: ec.Name, Rules: []dataplane.RuleLine{}, ServicePort: p.Name.Namespace + "/" + p.Name.Name}
			if p.Name.Port != "" {
				l.ServicePort += ":" + p.Name.Port
			}
			c := table.Chain(ec.Name)
			if c == nil {
				l.Drift = "NFTServiceMissing"
			}
			for _, r := range chainRules(c) {
				text := r.Text()
				if r.Handle != 0 {
					// JSON listings have no line numbers; the handle is how
					// nft -a names the rule.
					text += " # handle " + strconv.Itoa(r.Handle)
				}
				at := dataplane.Locator{Mode: dataplane.ModeNFTables, Family: string(table.Family), Table: table.Name, Chain: ec.Name, Line: r.Line, Handle: r.Handle}
				at.Endpoint, _ = r.DNATTarget()
				l.Rules = append(l.Rules, dataplane.RuleLine{Line: r.Line, Text: text, Where: at})
			}
			out = append(out, l)
		}
	}
	return out
}

func chainRules(c *Chain) []*Rule {
	if c == nil {
		return nil
	}
	return c.Rules
}
