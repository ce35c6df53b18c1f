package nftables

import (
	"strings"

	"github.com/svctrace/kubectl-svctrace/dataplane"
)

// Leftovers lists what t holds of exp, the elements and chains kube-proxy
// would write for a Service it does not handle (labelled
// service-proxy-name or headless): each is stale.
func Leftovers(exp *ExpectedService, t *Table) []dataplane.Diff {
	if t == nil {
		return nil
	}
	var out []dataplane.Diff
	for _, p := range exp.Ports {
		for _, el := range p.Elements {
			name := el.Map + el.Set
			if name == SetHairpinConnections {
				continue // keyed by endpoint: other Services' pods share them
			}
			s := t.Set(name)
			if s == nil {
				continue
			}
			if got, found := s.Lookup(canonicalKey(el.Key)); found {
				out = append(out, dataplane.Diff{Kind: dataplane.StaleProxyRules, Where: elemAt(el), Actual: strings.Join(got.Value, " . "),
					Service: p.Name.Display(), Skipped: true})
			}
		}
		for _, c := range p.Chains {
			if t.Chain(c.Name) != nil {
				out = append(out, dataplane.Diff{Kind: dataplane.StaleProxyRules, Where: dataplane.Locator{Chain: c.Name},
					Service: p.Name.Display(), Skipped: true, Whole: true})
			}
		}
	}
	for i := range out {
		out[i].Where.Mode, out[i].Where.Family, out[i].Where.Table = dataplane.ModeNFTables, string(exp.Family), KubeProxyTable
	}
	return out
}
