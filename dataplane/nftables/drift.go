package nftables

import (
	"net/netip"
	"slices"
	"strings"

	"sigs.k8s.io/knftables"

	"github.com/svctrace/kubectl-svctrace/dataplane"
)

// Kinds of difference Drift reports.
const (
	// NFTServiceMissing: no service-ips/service-nodeports element, or the
	// service/external chain it should reach does not exist.
	NFTServiceMissing dataplane.DiffKind = "NFTServiceMissing"
	// NFTEndpointMissing: a ready endpoint is not a DNAT target of the
	// service chain (or its endpoint chain is missing), or the chain's
	// numgen map lacks elements for some values so part of the traffic is
	// not translated.
	NFTEndpointMissing dataplane.DiffKind = "NFTEndpointMissing"
	// NFTEndpointStale: the service chain DNATs to an address that is not a
	// usable endpoint any more.
	NFTEndpointStale dataplane.DiffKind = "NFTEndpointStale"
	// NFTElementWrongTarget: the element exists but its verdict differs.
	NFTElementWrongTarget dataplane.DiffKind = "NFTElementWrongTarget"
	// NFTElementMissing: a non-dispatch element (cluster-ips,
	// no-endpoint-services, firewall-ips, hairpin-connections) is absent.
	NFTElementMissing dataplane.DiffKind = "NFTElementMissing"
	// NFTElementStale: an element for this service's IP and port exists that
	// kube-proxy would not write now (e.g. a reject left after endpoints came).
	NFTElementStale dataplane.DiffKind = "NFTElementStale"
)

// Drift compares the expectation for one Service with kube-proxy's table
// (t may be nil: everything is then missing). Differences come in a stable
// order: elements, chains, then endpoints per port.
func Drift(exp *ExpectedService, t *Table) []dataplane.Diff {
	if t == nil {
		t = newTable(exp.Family, KubeProxyTable)
	}
	var out []dataplane.Diff
	for _, p := range exp.Ports {
		out = append(out, elementDrift(p, t)...)
		out = append(out, staleElements(exp, p, t)...)
		out = append(out, chainDrift(p, t)...)
	}
	for i := range out {
		out[i].Where.Mode, out[i].Where.Family, out[i].Where.Table = dataplane.ModeNFTables, string(exp.Family), KubeProxyTable
	}
	return out
}

// Place names a locator's place as nft writes it: a set or map element
// "name { key }", an endpoint, or a chain.
func Place(l dataplane.Locator) string {
	switch {
	case l.Set != "":
		return l.Set + " { " + strings.Join(l.Element, " . ") + " }"
	case l.Endpoint.IsValid():
		return l.Endpoint.String()
	}
	return l.Chain
}

// elemAt locates an element.
func elemAt(el knftables.Element) dataplane.Locator {
	name := el.Map
	if name == "" {
		name = el.Set
	}
	return dataplane.Locator{Set: name, Element: el.Key}
}

func elementDrift(p ExpectedPort, t *Table) []dataplane.Diff {
	var out []dataplane.Diff
	for _, want := range p.Elements {
		name := want.Map + want.Set
		where := elemAt(want)
		wantVal := strings.Join(want.Value, " . ")
		var got knftables.Element
		found := false
		if s := t.Set(name); s != nil {
			got, found = s.Lookup(canonicalKey(want.Key))
		}
		switch {
		case !found && (name == MapServiceIPs || name == MapServiceNodePorts):
			out = append(out, dataplane.Diff{Kind: NFTServiceMissing, Where: where, Expected: wantVal, Service: p.Name.Display()})
		case !found:
			out = append(out, dataplane.Diff{Kind: NFTElementMissing, Where: where, Expected: wantVal, Service: p.Name.Display()})
		case want.Map != "" && strings.Join(got.Value, " . ") != wantVal:
			out = append(out, dataplane.Diff{Kind: NFTElementWrongTarget, Where: where, Expected: wantVal, Actual: strings.Join(got.Value, " . "), Service: p.Name.Display()})
		}
	}
	return out
}

func canonicalKey(key []string) []string {
	out := make([]string, len(key))
	for i, k := range key {
		out[i] = Canonical(k)
	}
	return out
}

// staleElements finds elements keyed by this port's IPs (or node port)
// that the expectation does not contain.
func staleElements(exp *ExpectedService, p ExpectedPort, t *Table) []dataplane.Diff {
	want := map[string]bool{}
	var ips []string
	var triple []string
	for _, el := range p.Elements {
		want[el.Map+el.Set+" "+strings.Join(el.Key, " . ")] = true
		if el.Map == MapServiceIPs || el.Map == MapNoEndpointServices || el.Map == MapFirewallIPs {
			ips = append(ips, el.Key[0])
			triple = el.Key[1:]
		}
	}
	if triple == nil {
		return nil
	}
	var out []dataplane.Diff
	for _, name := range []string{MapServiceIPs, MapNoEndpointServices, MapFirewallIPs} {
		s := t.Set(name)
		if s == nil {
			continue
		}
		for _, el := range s.Elements {
			if len(el.Key) != 3 || !slices.Contains(ips, el.Key[0]) || !slices.Equal(el.Key[1:], triple) {
				continue
			}
			if want[name+" "+strings.Join(el.Key, " . ")] {
				continue
			}
			out = append(out, dataplane.Diff{Kind: NFTElementStale, Where: elemAt(el),
				Actual: strings.Join(el.Value, " . "), Service: p.Name.Display()})
		}
	}
	return out
}

func chainDrift(p ExpectedPort, t *Table) []dataplane.Diff {
	var out []dataplane.Diff
	for _, c := range p.Chains {
		if t.Chain(c.Name) != nil {
			continue
		}
		id := NFTServiceMissing
		if strings.HasPrefix(c.Name, PrefixEndpoint) {
			id = NFTEndpointMissing
		}
		out = append(out, dataplane.Diff{Kind: id, Where: dataplane.Locator{Chain: c.Name}, Whole: true})
	}
	out = append(out, endpointDrift(p, ServiceChain(p.Name), p.Endpoints, t)...)
	out = append(out, endpointDrift(p, LocalChain(p.Name), p.LocalEndpoints, t)...)
	return out
}

// endpointDrift compares the DNAT targets reachable from chain with want.
// A chain that should not exist is skipped (chainDrift reports it).
func endpointDrift(p ExpectedPort, chain string, want []netip.AddrPort, t *Table) []dataplane.Diff {
	if t.Chain(chain) == nil || !expectsChain(p, chain) {
		return nil
	}
	got := ChainTargets(t, chain)
	var out []dataplane.Diff
	for _, ep := range want {
		if !slices.Contains(got, ep) {
			out = append(out, dataplane.Diff{Kind: NFTEndpointMissing, Where: dataplane.Locator{Chain: chain, Endpoint: ep},
				Service: p.Name.Display()})
		}
	}
	for _, ep := range got {
		if !slices.Contains(want, ep) {
			out = append(out, dataplane.Diff{Kind: NFTEndpointStale, Where: dataplane.Locator{Chain: chain, Endpoint: ep},
				Service: p.Name.Display()})
		}
	}
	return append(out, holeDrift(p, chain, t)...)
}

func expectsChain(p ExpectedPort, name string) bool {
	return slices.ContainsFunc(p.Chains, func(c ExpectedChain) bool { return c.Name == name })
}
