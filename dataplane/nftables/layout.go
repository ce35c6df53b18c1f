package nftables

import (
	"slices"

	"github.com/svctrace/kubectl-svctrace/dataplane"
)

// chainMarkForMasquerade is the chain kube-proxy before v1.36 marks
// packets for masquerading through; v1.36 and later set the mark inline
// and have no such chain.
const chainMarkForMasquerade = "mark-for-masquerade"

// DetectLayout tells which release's layout a kube-proxy table has:
// v1.36 and later keep hairpin traffic in the hairpin-connections set,
// v1.29 to v1.35 jump to the mark-for-masquerade chain from each endpoint
// chain instead. A table with neither is LayoutUnknown; no table at all
// is compared with v1.37's (everything is missing).
func DetectLayout(t *Table) Layout {
	switch {
	case t == nil || t.Set(SetHairpinConnections) != nil:
		return LayoutV137
	case t.Chain(chainMarkForMasquerade) != nil:
		return LayoutLegacy
	}
	return LayoutUnknown
}

// behaviour keeps the differences in what packets meet: the elements
// that dispatch them and the endpoints each chain reaches. It drops those
// in a layout's shape: hairpin elements and missing endpoint chains (an
// endpoint reached no more is an endpoint difference of its own).
func behaviour(diffs []dataplane.Diff) []dataplane.Diff {
	return slices.DeleteFunc(diffs, func(d dataplane.Diff) bool {
		return d.Where.Set == SetHairpinConnections || (d.Kind == NFTEndpointMissing && d.Whole)
	})
}

// servicesIn are the Services' expectations in the layout of table t:
// the v1.37 ones Expect computed, or, for an older kube-proxy's table, the
// same Services and slices expected in that layout, computed once.
// Expect already computed them from the same objects without error, and
// what fails in Expected does not depend on the layout, so the older
// layout cannot fail where the first succeeded; should it, the v1.37
// expectation stands.
func (w *Want) servicesIn(t *Table) []*ExpectedService {
	if DetectLayout(t) != LayoutLegacy || w.opts.Layout == LayoutLegacy {
		return w.Services
	}
	if w.legacy == nil {
		opts := w.opts
		opts.Layout = LayoutLegacy
		var legacy []*ExpectedService
		own := slicesByService(w.served.Slices)
		for _, svc := range w.served.Services {
			exp, err := Expected(svc, own[serviceKey{svc.Namespace, svc.Name}], opts)
			if err != nil {
				return w.Services
			}
			legacy = append(legacy, exp)
		}
		w.legacy = legacy
	}
	return w.legacy
}
