package trace

import (
	"net/netip"
	"strconv"
	"strings"

	"github.com/svctrace/kubectl-svctrace/dataplane/ipvs"
	"github.com/svctrace/kubectl-svctrace/dataplane/nftables"
)

// markNFTDrift marks the nftables chain listings with the differences, so a
// reader sees the stale DNAT target or the missing one where it belongs.
// Element differences, which belong to no service chain, get a listing of
// their own.
func markNFTDrift(chains []ChainListing, diffs []nftables.Difference, table string) []ChainListing {
	find := func(name string) *ChainListing {
		for i := range chains {
			if chains[i].Name == name {
				return &chains[i]
			}
		}
		return nil
	}
	var elements []RuleLine
	for _, d := range diffs {
		switch {
		case strings.HasPrefix(d.Actual, "dnat target of "):
			if c := find(strings.TrimPrefix(d.Actual, "dnat target of ")); c != nil {
				markTarget(c, d.Subject, d.ID)
			}
		case strings.HasPrefix(d.Expected, "dnat target of "):
			if c := find(strings.TrimPrefix(d.Expected, "dnat target of ")); c != nil {
				c.Rules = append(c.Rules, RuleLine{Text: "missing: dnat to " + d.Subject, Drift: d.ID})
			}
		case find(d.Subject) != nil:
			if c := find(d.Subject); c.Drift == "" {
				c.Drift = d.ID
			}
		default:
			elements = append(elements, RuleLine{Text: d.Subject + ": " + diffMessage(d.Message, d.Expected, d.Actual), Drift: d.ID})
		}
	}
	if len(elements) > 0 {
		chains = append(chains, ChainListing{Table: table, Name: "(set and map elements)", Rules: elements, Drift: elements[0].Drift})
	}
	return chains
}

// markTarget marks the rules of c that DNAT to the endpoint ep, written
// "ip:port" in a plain dnat and "ip . port" in a numgen map.
func markTarget(c *ChainListing, ep, id string) {
	ap, err := netip.ParseAddrPort(ep)
	if err != nil {
		return
	}
	forms := []string{ap.String(), ap.Addr().String() + " . " + strconv.Itoa(int(ap.Port()))}
	for i, r := range c.Rules {
		for _, f := range forms {
			if strings.Contains(r.Text, f) && c.Rules[i].Drift == "" {
				c.Rules[i].Drift = id
			}
		}
	}
}

// markIPVSDrift marks the virtual server listings with the IPVS differences
// and lists the virtual servers and real servers that should be there.
func markIPVSDrift(chains []ChainListing, findings []ipvs.Finding) []ChainListing {
	find := func(name string) *ChainListing {
		for i := range chains {
			if chains[i].Name == name {
				return &chains[i]
			}
		}
		return nil
	}
	for _, f := range findings {
		if f.ID == ipvs.AddressNotBound {
			continue // boundListing marks its line
		}
		vs, rs, isRS := strings.Cut(f.Subject, " -> ")
		c := find(vs)
		if c == nil {
			chains = append(chains, ChainListing{Name: vs, Rules: []RuleLine{}, Drift: f.ID})
			c = &chains[len(chains)-1]
			if f.ID == ipvs.VirtualServerMissing {
				continue
			}
		}
		if !isRS {
			if c.Drift == "" {
				c.Drift = f.ID
			}
			continue
		}
		marked := false
		for i, r := range c.Rules {
			if strings.HasPrefix(r.Text, "-> "+rs+" ") {
				c.Rules[i].Drift, marked = f.ID, true
			}
		}
		if !marked {
			c.Rules = append(c.Rules, RuleLine{Text: "missing: -> " + rs + " (" + f.Expected + ")", Drift: f.ID})
		}
	}
	return chains
}
