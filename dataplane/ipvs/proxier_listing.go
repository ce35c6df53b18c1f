package ipvs

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"

	"github.com/svctrace/kubectl-svctrace/dataplane"
)

// Listings lists, for each virtual server kube-proxy should have made, the
// node's one with its real servers, then the bound addresses where they
// were read, each marked with its diffs.
func (Proxier) Listings(w *Want, got *State, diffs []dataplane.Diff) []dataplane.Listing {
	var out []dataplane.Listing
	for _, exp := range w.Expected {
		out = append(out, ipvsListings(exp, got.Table, out)...)
	}
	if got.LocalRead {
		for _, exp := range w.Expected {
			out = append(out, boundListing(exp, got.Local))
		}
	}
	return markIPVSDrift(out, diffs)
}

// ipvsListings lists, for each virtual server kube-proxy should have made
// for the Service, the node's one with its real servers; one the node lacks
// is listed empty, for its drift mark.
func ipvsListings(exp Expected, t Table, have []dataplane.Listing) []dataplane.Listing {
	var out []dataplane.Listing
	for _, want := range exp.VirtualServers {
		name := want.Key()
		listed := func(l dataplane.Listing) bool { return l.Name == name }
		if slices.ContainsFunc(out, listed) || slices.ContainsFunc(have, listed) {
			continue
		}
		l := dataplane.Listing{Name: name, Rules: []dataplane.RuleLine{}, ServicePort: want.PortName, Kind: dataplane.ListingVirtualServer, Where: At(want.VirtualServer, nil)}
		if got, ok := t.Lookup(want.Protocol, want.Address, want.Port); ok {
			l.Rules = append(l.Rules, dataplane.RuleLine{Text: fmt.Sprintf("virtual server %s scheduler %s", got.Key(), got.Scheduler),
				Kind: dataplane.LineHeading, Where: At(got, nil)})
			for _, rsv := range got.RealServers {
				l.Rules = append(l.Rules, dataplane.RuleLine{Text: fmt.Sprintf("-> %s weight %d %s", rsv.Key(), rsv.Weight, rsv.Forward),
					Kind: dataplane.LineMember, Where: At(got, &rsv)})
			}
		}
		out = append(out, l)
	}
	return out
}

// boundListing shows which of the Service's addresses are local to the node.
func boundListing(exp Expected, local []netip.Addr) dataplane.Listing {
	l := dataplane.Listing{Name: DummyInterface, Rules: []dataplane.RuleLine{}, Kind: dataplane.ListingAddresses}
	for _, a := range exp.Bound {
		at := dataplane.Locator{Mode: dataplane.ModeIPVS, Address: a}
		if slices.Contains(local, a) {
			l.Rules = append(l.Rules, dataplane.RuleLine{Text: "inet " + a.String() + " local", Where: at})
		} else {
			l.Rules = append(l.Rules, dataplane.RuleLine{Text: "inet " + a.String() + " not a local address", Drift: AddressNotBound, Where: at})
		}
	}
	return l
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
		if d.Kind == AddressNotBound {
			continue // boundListing marks its line
		}
		id, vs, rs := d.Kind, d.Where.Chain, d.Where.Endpoint
		c := find(vs)
		if c == nil {
			chains = append(chains, dataplane.Listing{Name: vs, Rules: []dataplane.RuleLine{}, Drift: id, Kind: dataplane.ListingVirtualServer, Where: d.Where})
			c = &chains[len(chains)-1]
			if d.Kind == VirtualServerMissing {
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
			c.Rules = append(c.Rules, dataplane.RuleLine{Text: "missing: -> " + rs.String() + " (weight " + strconv.Itoa(d.WantWeight) + ")", Drift: id, Kind: dataplane.LineMissing, Where: d.Where})
		}
	}
	return chains
}
