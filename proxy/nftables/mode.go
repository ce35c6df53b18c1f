package nftables

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/knftables"

	"github.com/svctrace/kubectl-svctrace/dataplane"
	model "github.com/svctrace/kubectl-svctrace/dataplane/nftables"
	"github.com/svctrace/kubectl-svctrace/proxy"
)

// Layouts of the two modes: beside kube-proxy, table "svctrace" for the
// Services labelled for svctrace; replacing it, kube-proxy's own table
// and Services. The chains, sets and rules are kube-proxy's in both.
var (
	Replace = model.Proxier{}
	Scoped  = model.Serve
)

// scopedComment marks the scoped table as --serve's in `nft list`.
const scopedComment = "rules for kubectl-svctrace --serve"

// Families are the families kube-proxy's nftables mode writes a table
// for, each with its own proxier, on every node whose kernel has both.
var Families = []knftables.Family{knftables.IPv4Family, knftables.IPv6Family}

// Mode is nftables mode for the proxy loop: per family, it computes the
// table kube-proxy v1.37 writes for the objects and has a Programmer keep
// it in the kernel.
type Mode struct {
	layout model.Proxier
	node   dataplane.Node
	progs  []*Programmer
	// cidrs are, per programmer, its family's --cluster-cidr.
	cidrs []netip.Prefix
	// caches keep, per programmer, each Service's expectation between
	// syncs, so that a sync computes only the Services that changed.
	caches []*model.ExpectCache

	// NodePortCIDRs are --nodeport-addresses CIDRs; none accepts NodePorts
	// on the node's primary addresses (kube-proxy's default here).
	// Interfaces reads the node's interface addresses they select from,
	// at each sync.
	NodePortCIDRs []netip.Prefix
	Interfaces    func() ([]netip.Addr, error)
}

var _ proxy.Mode = (*Mode)(nil)

// Kernel is one family's access to nft: knftables bound to the layout's
// table in that family, and the reader of that table.
type Kernel struct {
	Family knftables.Family
	NFT    knftables.Interface
	Read   Reader
	// ClusterCIDR is the family's --cluster-cidr; when unset, node's
	// cluster CIDR is used if it is of this family.
	ClusterCIDR netip.Prefix
}

// NewMode returns nftables mode in layout l, programming each family of
// kernels. node carries the name and the flags (cluster CIDR); its IPs and
// zone, when empty, come from the Node object at each sync.
func NewMode(l model.Proxier, node dataplane.Node, kernels []Kernel) *Mode {
	m := &Mode{layout: l, node: node}
	for _, k := range kernels {
		m.progs = append(m.progs, New(k.NFT, k.Read, k.Family, l.TableName()))
		m.caches = append(m.caches, &model.ExpectCache{})
		m.cidrs = append(m.cidrs, k.ClusterCIDR)
	}
	return m
}

// Name implements proxy.Mode.
func (m *Mode) Name() string { return "nftables" }

// nodePortAddresses resolves NodePortCIDRs for one family as kube-proxy
// does (proxyutil.NewNodePortAddresses): the node's interface addresses
// the family's CIDRs hold, or, when a CIDR is the whole family or none is
// of the family, every address. The result is never nil: NodePorts are
// narrowed even when no address matches.
func (m *Mode) nodePortAddresses(ipv6 bool) ([]netip.Prefix, error) {
	everywhere := []netip.Prefix{netip.MustParsePrefix("0.0.0.0/0")}
	if ipv6 {
		everywhere = []netip.Prefix{netip.MustParsePrefix("::/0")}
	}
	var cidrs []netip.Prefix
	for _, c := range m.NodePortCIDRs {
		if c.Addr().Is6() == ipv6 {
			cidrs = append(cidrs, c)
		}
	}
	if len(cidrs) == 0 {
		return everywhere, nil
	}
	out := []netip.Prefix{}
	var addrs []netip.Addr
	if m.Interfaces != nil {
		var err error
		if addrs, err = m.Interfaces(); err != nil {
			return nil, fmt.Errorf("read the interface addresses --nodeport-addresses selects from: %w", err)
		}
	}
	for _, c := range cidrs {
		if c.Bits() == 0 {
			out = append(out, c)
			continue
		}
		for _, a := range addrs {
			if p := netip.PrefixFrom(a, a.BitLen()); c.Contains(a) && !slices.Contains(out, p) {
				out = append(out, p) // once, though CIDRs overlap
			}
		}
	}
	return out, nil
}

// Want computes one family's expectation for objs.
func (m *Mode) Want(objs proxy.Objects, family knftables.Family) (*model.Want, error) {
	return m.want(objs, family, netip.Prefix{}, nil)
}

// want is Want, through cache when it is not nil.
func (m *Mode) want(objs proxy.Objects, family knftables.Family, cidr netip.Prefix, cache *model.ExpectCache) (*model.Want, error) {
	n := m.nodeFor(objs.Node)
	n.Family = corev1.IPFamily(ipFamily(family))
	if len(m.NodePortCIDRs) > 0 {
		np, err := m.nodePortAddresses(family == knftables.IPv6Family)
		if err != nil {
			return nil, err
		}
		n.Flags.NodePortAddresses = np
	}
	if cidr.IsValid() {
		n.Flags.ClusterCIDR = cidr
	} else if c := n.Flags.ClusterCIDR; c.IsValid() && c.Addr().Is6() != (family == knftables.IPv6Family) {
		// kube-proxy runs without a local-traffic detector for a family
		// that has no cluster CIDR.
		n.Flags.ClusterCIDR = netip.Prefix{}
	}
	o := dataplane.Objects{Services: objs.Services, Slices: objs.Slices, ServiceCIDRs: objs.ServiceCIDRs}
	var w *model.Want
	var err error
	if cache != nil {
		w, err = cache.Expect(m.layout, n, o)
	} else {
		w, err = m.layout.Expect(n, o)
	}
	if err != nil {
		return nil, fmt.Errorf("compute the nftables %s table: %w", family, err)
	}
	return w, nil
}

// objects are what the table of w should hold, the scoped table marked
// as --serve's.
func (m *Mode) objects(w *model.Want) []knftables.Object {
	objs := w.Objects()
	if m.layout.TableName() != model.KubeProxyTable {
		objs[0] = &knftables.Table{Comment: ptr.To(scopedComment)}
	}
	return objs
}

// Sync implements proxy.Mode: every family's table in a transaction of its
// own. A family that fails does not keep the other from syncing.
func (m *Mode) Sync(ctx context.Context, objs proxy.Objects, full, dryRun bool) (proxy.Report, error) {
	var results []Result
	var errs []error
	var failed []string
	for i, p := range m.progs {
		w, err := m.want(objs, p.family, m.cidrs[i], m.caches[i])
		if err != nil {
			return proxy.Report{}, err
		}
		res, err := p.Sync(ctx, m.objects(w), full, dryRun)
		results = append(results, res)
		errs = append(errs, err)
		if err != nil {
			failed = append(failed, ipFamily(p.family))
		}
	}
	rep := report(results)
	rep.FailedFamilies = failed
	return rep, errors.Join(errs...)
}

// Cleanup implements proxy.Mode: it deletes the layout's table in every
// family, and nothing else.
func (m *Mode) Cleanup(ctx context.Context, dryRun bool) (proxy.Report, error) {
	var results []Result
	var errs []error
	var deleted []string
	for _, p := range m.progs {
		res, err := p.Cleanup(ctx, dryRun)
		results = append(results, res)
		errs = append(errs, err)
		if res.Ops > 0 {
			deleted = append(deleted, string(res.Family)+" "+res.Table)
		}
	}
	rep := report(results)
	rep.Summary = "cleanup: no table to delete"
	if len(deleted) > 0 {
		rep.Summary = "cleanup: deleted table " + strings.Join(deleted, ", table ")
	}
	return rep, errors.Join(errs...)
}

// ipFamily is the Kubernetes name of an nftables family.
func ipFamily(f knftables.Family) string {
	if f == knftables.IPv6Family {
		return string(corev1.IPv6Protocol)
	}
	return string(corev1.IPv4Protocol)
}

func report(results []Result) proxy.Report {
	rep := proxy.Report{Repairs: map[string]int{}}
	var lines []string
	for _, r := range results {
		rep.Full = rep.Full || r.Full
		rep.Changes += r.Transaction
		lines = append(lines, r.String())
		for k, n := range r.Repairs {
			rep.Repairs[k] += n
		}
	}
	rep.Summary = strings.Join(lines, "; ")
	return rep
}

// nodeFor fills the node's addresses and zone from its Node object, as
// the trace reads them (InternalIP and ExternalIP addresses).
func (m *Mode) nodeFor(n *corev1.Node) dataplane.Node {
	node := m.node
	if n == nil {
		return node
	}
	if len(node.IPs) == 0 {
		for _, a := range n.Status.Addresses {
			if a.Type != corev1.NodeInternalIP && a.Type != corev1.NodeExternalIP {
				continue
			}
			if ip, err := netip.ParseAddr(a.Address); err == nil {
				node.IPs = append(node.IPs, ip)
			}
		}
	}
	if node.Zone == "" {
		node.Zone = n.Labels[corev1.LabelTopologyZone]
	}
	return node
}
