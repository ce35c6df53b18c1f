package proxymode

import (
	"errors"
	"fmt"
	"io"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/knftables"

	"github.com/svctrace/kubectl-svctrace/dataplane"
	"github.com/svctrace/kubectl-svctrace/dataplane/nftables"
)

// NFTables is kube-proxy's nftables mode: the kube-proxy table of the
// node's family.
type NFTables struct{}

var _ dataplane.Proxier[*NFTablesWant, *nftables.Ruleset] = NFTables{}

// NFTablesWant is what kube-proxy's nftables proxier writes on a node:
// per Service, the map and set elements and the chains.
type NFTablesWant struct {
	Node     dataplane.Node
	Family   knftables.Family
	Services []*nftables.ExpectedService
}

// Mode is nftables.
func (NFTables) Mode() dataplane.Mode { return dataplane.ModeNFTables }

// Expect computes the elements and chains for objs on n.
func (NFTables) Expect(n dataplane.Node, objs dataplane.Objects) (*NFTablesWant, error) {
	w := &NFTablesWant{Node: n, Family: knftables.IPv4Family}
	if n.Family == corev1.IPv6Protocol {
		w.Family = knftables.IPv6Family
	}
	opts := nftables.ExpectOptions{Family: w.Family, NodeName: n.Name, Zone: n.Zone}
	if n.Flags.ClusterCIDR.IsValid() {
		opts.ClusterCIDR = n.Flags.ClusterCIDR.String()
	}
	for _, svc := range objs.Services {
		exp, err := nftables.Expected(svc, objs.Slices, opts)
		if err != nil {
			return nil, err
		}
		w.Services = append(w.Services, exp)
	}
	return w, nil
}

// ErrNotMaterialized is returned by NFTables.Materialize: the expectation
// holds elements and chain names, not the rules of the chains.
var ErrNotMaterialized = errors.New("the nftables expectation holds elements and chains, not rules; pass the node's nft -j list ruleset to walk its rules")

// Materialize is not modelled for nftables (ErrNotMaterialized).
func (NFTables) Materialize(*NFTablesWant) (*nftables.Ruleset, error) {
	return nil, ErrNotMaterialized
}

// Read parses nft -j list ruleset output.
func (NFTables) Read(r io.Reader) (*nftables.Ruleset, error) { return nftables.ParseJSON(r) }

// Drift compares the kube-proxy table of w's family with each Service's
// expectation.
func (NFTables) Drift(w *NFTablesWant, got *nftables.Ruleset) []dataplane.Diff {
	table := got.KubeProxy(w.Family)
	var out []dataplane.Diff
	for _, exp := range w.Services {
		out = append(out, nftables.Drift(exp, table)...)
	}
	return out
}

// Walk follows p through every table of got.
func (NFTables) Walk(w *NFTablesWant, got *nftables.Ruleset, p dataplane.Packet) (dataplane.Walk, error) {
	outs, err := nftables.Walk(got, nftables.Packet{Proto: p.Protocol, Src: p.Source, Dst: p.Dest, DstPort: p.Port, Entry: p.From},
		nftables.WalkOptions{LocalAddrs: w.Node.IPs})
	if err != nil {
		return dataplane.Walk{}, fmt.Errorf("walk nftables %s: %w", p.Dest, err)
	}
	return nftWalk(p, outs), nil
}

// Listings lists the chains kube-proxy writes for w's Services as the node
// has them, marked with the diffs; element diffs get a listing of their
// own.
func (NFTables) Listings(w *NFTablesWant, got *nftables.Ruleset, diffs []dataplane.Diff) []dataplane.Listing {
	table := got.KubeProxy(w.Family)
	name := string(w.Family) + " " + nftables.KubeProxyTable
	var out []dataplane.Listing
	if table != nil {
		for _, exp := range w.Services {
			out = append(out, nftListings(exp, table, name)...)
		}
	}
	return markNFTDrift(out, diffs, name)
}
