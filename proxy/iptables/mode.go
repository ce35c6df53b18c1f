package iptables

import (
	"context"
	"fmt"
	"net/netip"
	"slices"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/klog/v2"

	"github.com/svctrace/kubectl-svctrace/dataplane/iptables/expected"
	kiptables "github.com/svctrace/kubectl-svctrace/kernel/iptables"
	"github.com/svctrace/kubectl-svctrace/proxy"
)

// Mode is iptables mode for the proxy loop: it generates kube-proxy's
// rules for the node from the objects and has a Programmer write them.
type Mode struct {
	p      *Programmer
	node   expected.Node
	layout Layout
	// gen keeps each Service's generated rules between syncs: after one
	// change only that Service is generated again; last is the state
	// built last, from which the next is built (BuildFrom).
	gen  expected.Cache
	last *Desired
	// Interfaces reads the node's interface addresses. kube-proxy matches
	// --nodeport-addresses CIDRs against them, so they are read at each
	// sync when node.NodePortAddresses holds a CIDR; nil reads none.
	Interfaces func() ([]netip.Addr, error)
}

var _ proxy.Mode = (*Mode)(nil)

// NewMode returns iptables mode writing through ipt, for node.Family
// (ipt must be iptables or ip6tables to match). node carries the settings
// (cluster CIDR of that family, nfacct, …); its Name is this node, and
// its IPs and zone, when empty, come from the Node object at each sync.
func NewMode(ipt kiptables.Interface, l Layout, node expected.Node) *Mode {
	m := &Mode{p: New(ipt, l), node: node, layout: l}
	m.gen.PartsOnly = true
	return m
}

// Name implements proxy.Mode.
func (m *Mode) Name() string { return "iptables" }

// Family is the IP family the mode programs (node.Family; IPv4 when
// empty).
func (m *Mode) Family() corev1.IPFamily {
	if m.node.Family == "" {
		return corev1.IPv4Protocol
	}
	return m.node.Family
}

// Desired generates the state for objs.
func (m *Mode) Desired(objs proxy.Objects) (*Desired, error) {
	node, err := m.nodeFor(objs.Node)
	if err != nil {
		return nil, err
	}
	rs, err := m.gen.Generate(node, objs.Services, objs.Slices)
	if err != nil {
		return nil, fmt.Errorf("generate iptables rules: %w", err)
	}
	m.last = BuildFrom(m.last, rs, m.layout)
	return m.last, nil
}

// Sync implements proxy.Mode.
func (m *Mode) Sync(ctx context.Context, objs proxy.Objects, full, dryRun bool) (proxy.Report, error) {
	d, err := m.Desired(objs)
	if err != nil {
		return proxy.Report{}, err
	}
	res, err := m.p.Sync(ctx, d, full, dryRun)
	return report(res), err
}

// Cleanup implements proxy.Mode.
func (m *Mode) Cleanup(ctx context.Context, dryRun bool) (proxy.Report, error) {
	res, err := m.p.Cleanup(ctx, dryRun)
	rep := report(res)
	rep.Summary = fmt.Sprintf("cleanup: %d chains deleted, %d jumps removed", res.Deleted, res.Lines)
	return rep, err
}

func report(res Result) proxy.Report {
	return proxy.Report{Full: res.Full, Changes: res.Input, Summary: res.String(), Repairs: res.Repairs}
}

// nodeFor fills the node's addresses and zone from its Node object, the
// way kube-proxy reads them at start, followed by the interface addresses
// when --nodeport-addresses names CIDRs.
func (m *Mode) nodeFor(n *corev1.Node) (expected.Node, error) {
	node := m.node
	if n != nil && len(node.IPs) == 0 {
		for _, typ := range []corev1.NodeAddressType{corev1.NodeInternalIP, corev1.NodeExternalIP} {
			for _, a := range n.Status.Addresses {
				if a.Type == typ {
					node.IPs = append(node.IPs, a.Address)
				}
			}
		}
	}
	if n != nil && node.Zone == "" {
		node.Zone = n.Labels[corev1.LabelTopologyZone]
	}
	if m.Interfaces != nil && slices.ContainsFunc(node.NodePortAddresses, func(a string) bool { return a != "primary" }) {
		ifaces, err := m.Interfaces()
		if err != nil {
			// As kube-proxy: logged, NodePorts then on the Node object's
			// addresses the CIDRs hold.
			klog.ErrorS(err, "Could not read the interface addresses --nodeport-addresses selects from")
		}
		// Only the addresses a CIDR holds: every pod's veth would otherwise
		// change the node, and so make the next sync generate every Service.
		node.IPs = append(slices.Clone(node.IPs), selected(node.NodePortAddresses, ifaces)...)
	}
	return node, nil
}

// selected are the addresses among addrs that a CIDR of cidrs holds.
func selected(cidrs []string, addrs []netip.Addr) []string {
	var prefixes []netip.Prefix
	for _, c := range cidrs {
		if p, err := netip.ParsePrefix(c); err == nil {
			prefixes = append(prefixes, p)
		}
	}
	var out []string
	for _, a := range addrs {
		if slices.ContainsFunc(prefixes, func(p netip.Prefix) bool { return p.Contains(a.Unmap()) }) {
			out = append(out, a.String())
		}
	}
	return out
}
