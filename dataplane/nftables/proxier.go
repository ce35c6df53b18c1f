package nftables

import (
	"fmt"
	"io"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"sigs.k8s.io/knftables"

	"github.com/svctrace/kubectl-svctrace/dataplane"
)

// Proxier is kube-proxy's nftables mode: the kube-proxy table of the
// node's family. The zero value is kube-proxy itself; --serve beside
// kube-proxy writes the same layout into a table of its own for the
// Services labelled for it.
type Proxier struct {
	// Table is the table read and written; empty means KubeProxyTable.
	Table string
	// ProxyName is the service-proxy-name label value of the Services
	// served; empty means kube-proxy's (the Services without the label).
	ProxyName string
}

// Serve is the layout of `kubectl-svctrace --serve --proxy-mode nftables`
// beside kube-proxy: kube-proxy's table, named svctrace, for the Services
// labelled service.kubernetes.io/service-proxy-name=svctrace.
var Serve = Proxier{Table: "svctrace", ProxyName: dataplane.ServeProxyName}

// TableName is the table p reads and writes.
func (p Proxier) TableName() string {
	if p.Table == "" {
		return KubeProxyTable
	}
	return p.Table
}

var _ dataplane.Proxier[*Want, *Ruleset] = Proxier{}

// Want is what kube-proxy's nftables proxier writes on a node: the
// table's base layout and, per Service, the map and set elements and the
// chains with their rules.
type Want struct {
	Node     dataplane.Node
	Family   knftables.Family
	Base     Base
	Services []*ExpectedService
	// Skipped are what kube-proxy would write for the Services it skips
	// (labelled service-proxy-name or headless): a node holding any of it
	// holds stale rules.
	Skipped []*ExpectedService

	// opts and served are what Services were expected from, for a node
	// whose kube-proxy writes another layout (servicesFor).
	opts   ExpectOptions
	served dataplane.Objects
	legacy []*ExpectedService
}

// Mode is nftables.
func (Proxier) Mode() dataplane.Mode { return dataplane.ModeNFTables }

// Expect computes the elements and chains for objs on n.
func (p Proxier) Expect(n dataplane.Node, objs dataplane.Objects) (*Want, error) {
	return p.expect(n, objs, nil)
}

// expect is Expect, reusing from cache (when not nil) the expectation of
// every served Service that has not changed.
func (p Proxier) expect(n dataplane.Node, objs dataplane.Objects, cache *ExpectCache) (*Want, error) {
	w := &Want{Node: n, Family: knftables.IPv4Family}
	if n.Family == corev1.IPv6Protocol {
		w.Family = knftables.IPv6Family
	}
	opts := ExpectOptions{Family: w.Family, NodeName: n.Name, Zone: n.Zone}
	if n.Flags.ClusterCIDR.IsValid() {
		opts.ClusterCIDR = n.Flags.ClusterCIDR.String()
	}
	w.Base = base(w.Family, n, objs.ServiceCIDRs)
	served, skipped := objs.ForProxy(p.ProxyName)
	w.opts, w.served = opts, served
	own := slicesByService(served.Slices)
	if cache != nil {
		cache.begin(opts)
	}
	for _, svc := range served.Services {
		exp, err := cache.expected(svc, own[serviceKey{svc.Namespace, svc.Name}], opts)
		if err != nil {
			return nil, err
		}
		w.Services = append(w.Services, exp)
	}
	if cache != nil {
		cache.end()
	}
	all := slicesByService(objs.Slices)
	for _, svc := range skipped {
		exp, err := Expected(svc, all[serviceKey{svc.Namespace, svc.Name}], opts)
		if err != nil {
			return nil, err
		}
		w.Skipped = append(w.Skipped, exp)
	}
	return w, nil
}

type serviceKey struct{ namespace, name string }

// slicesByService groups slices by the Service they name, so that each
// Service's expectation reads its own slices (endpoints.ForPort keeps only
// those anyway) instead of scanning every slice of the cluster: with
// thousands of Services that scan was most of Expect's time.
func slicesByService(all []*discoveryv1.EndpointSlice) map[serviceKey][]*discoveryv1.EndpointSlice {
	out := map[serviceKey][]*discoveryv1.EndpointSlice{}
	for _, s := range all {
		if s != nil {
			k := serviceKey{s.Namespace, s.Labels[discoveryv1.LabelServiceName]}
			out[k] = append(out[k], s)
		}
	}
	return out
}

// Materialize is the kube-proxy table of a node in sync with w, as nft
// lists it (handles aside).
func (p Proxier) Materialize(w *Want) (*Ruleset, error) {
	rs, err := RulesetOf(w.Family, w.Objects())
	if err == nil {
		rs.Tables[0].Name = p.TableName()
	}
	return rs, err
}

// Read parses nft -j list ruleset output.
func (Proxier) Read(r io.Reader) (*Ruleset, error) { return ParseJSON(r) }

// Drift compares the kube-proxy table of w's family with each Service's
// expectation in the layout of the kube-proxy that wrote the table; in a
// table of no known layout, only what packets meet (behaviour).
func (p Proxier) Drift(w *Want, got *Ruleset) []dataplane.Diff {
	table := got.Table(w.Family, p.TableName())
	var out []dataplane.Diff
	for _, exp := range w.servicesIn(table) {
		out = append(out, Drift(exp, table)...)
	}
	for _, exp := range w.Skipped {
		out = append(out, Leftovers(exp, table)...)
	}
	if DetectLayout(table) == LayoutUnknown {
		out = behaviour(out)
	}
	for i := range out {
		out[i].Where.Table = p.TableName()
	}
	return out
}

// Walk follows p through every table of got.
func (Proxier) Walk(w *Want, got *Ruleset, p dataplane.Packet) (dataplane.Walk, error) {
	outs, err := Walk(got, Packet{Proto: p.Protocol, Src: p.Source, Dst: p.Dest, DstPort: p.Port, Entry: p.From},
		WalkOptions{LocalAddrs: w.Node.IPs})
	if err != nil {
		return dataplane.Walk{}, fmt.Errorf("walk nftables %s: %w", p.Dest, err)
	}
	return nftWalk(p, outs), nil
}

// Listings lists the chains kube-proxy writes for w's Services as the node
// has them, marked with the diffs; element diffs get a listing of their
// own.
func (p Proxier) Listings(w *Want, got *Ruleset, diffs []dataplane.Diff) []dataplane.Listing {
	table := got.Table(w.Family, p.TableName())
	name := string(w.Family) + " " + p.TableName()
	var out []dataplane.Listing
	if table != nil {
		for _, exp := range w.servicesIn(table) {
			out = append(out, nftListings(exp, table, name)...)
		}
	}
	return markNFTDrift(out, diffs, name)
}
