package trace

import (
	"net/netip"
	"strconv"
	"strings"

	"github.com/svctrace/kubectl-svctrace/dataplane"
	"github.com/svctrace/kubectl-svctrace/dataplane/ipvs"
	"github.com/svctrace/kubectl-svctrace/dataplane/nftables"
)

// diffFindings reports a mode's differences as findings: the subject is
// the mode's name of the place, prefixed with the mode.
func diffFindings(diffs []dataplane.Diff, prefix string, place func(dataplane.Locator) string, svc string) []Finding {
	var out []Finding
	for _, d := range diffs {
		id, where := string(d.Kind), d.Where
		out = append(out, Finding{ID: id, Severity: severityOf(id), Subject: prefix + place(d.Where),
			Message: diffMessage(d.Detail, d.Expected, d.Actual), Hint: dataplaneHint(id, svc), Where: &where})
	}
	return out
}

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
		case at.Endpoint.IsValid() && d.Kind == nftables.NFTEndpointStale:
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
			elements = append(elements, dataplane.RuleLine{Text: nftables.Place(at) + ": " + diffMessage(d.Detail, d.Expected, d.Actual), Drift: id, Where: at})
		}
	}
	if len(elements) > 0 {
		chains = append(chains, dataplane.Listing{Table: table, Name: "(set and map elements)", Rules: elements, Drift: elements[0].Drift, Kind: dataplane.ListingElements})
	}
	return chains
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

// markIPVSDrift marks the virtual server listings with the IPVS differences
// and lists the virtual servers and real servers that should be there.
func markIPVSDrift(chains []dataplane.Listing, diffs []dataplane.Diff) []dataplane.Listing {
	find := func(name string) *dataplane.Listing {
		for i := range chains {
			if chains[i].Name == name {
				return &chains[i]
			}
		}
		return nil
	}
	for _, d := range diffs {
		if d.Kind == ipvs.AddressNotBound {
			continue // boundListing marks its line
		}
		id, vs, rs := d.Kind, d.Where.Chain, d.Where.Endpoint
		c := find(vs)
		if c == nil {
			chains = append(chains, dataplane.Listing{Name: vs, Rules: []dataplane.RuleLine{}, Drift: id, Kind: dataplane.ListingVirtualServer, Where: d.Where})
			c = &chains[len(chains)-1]
			if d.Kind == ipvs.VirtualServerMissing {
				continue
			}
		}
		if !rs.IsValid() {
			if c.Drift == "" {
				c.Drift = id
			}
			continue
		}
		marked := false
		for i, r := range c.Rules {
			if r.Kind == dataplane.LineMember && r.Where.Endpoint == rs {
				c.Rules[i].Drift, marked = id, true
			}
		}
		if !marked {
			c.Rules = append(c.Rules, dataplane.RuleLine{Text: "missing: -> " + rs.String() + " (" + d.Expected + ")", Drift: id, Kind: dataplane.LineMissing, Where: d.Where})
		}
	}
	return chains
}
