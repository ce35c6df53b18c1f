//go:build linux

package main

import (
	"context"
	"errors"
	"fmt"
	"net/netip"

	corev1 "k8s.io/api/core/v1"

	"k8s.io/klog/v2"
	"sigs.k8s.io/knftables"

	"github.com/svctrace/kubectl-svctrace/dataplane"
	"github.com/svctrace/kubectl-svctrace/dataplane/iptables/expected"
	dpnft "github.com/svctrace/kubectl-svctrace/dataplane/nftables"
	kiptables "github.com/svctrace/kubectl-svctrace/kernel/iptables"
	kipvs "github.com/svctrace/kubectl-svctrace/kernel/ipvs"
	"github.com/svctrace/kubectl-svctrace/kernel/nfacct"
	knft "github.com/svctrace/kubectl-svctrace/kernel/nftables"
	"github.com/svctrace/kubectl-svctrace/proxy"
	proxyiptables "github.com/svctrace/kubectl-svctrace/proxy/iptables"
	proxynft "github.com/svctrace/kubectl-svctrace/proxy/nftables"
	"github.com/svctrace/kubectl-svctrace/source"
)

// serveMode is a proxy mode that can also answer /debug/state.
type serveMode struct {
	proxy.Mode
	state proxy.StateFunc
}

func (s *serveOptions) newMode(ctx context.Context, o *options) (*serveMode, error) {
	switch s.mode {
	case "ipvs":
		return s.newIPVSMode(ctx, o)
	case "nftables":
		return s.newNFTMode(ctx, o)
	}
	return s.newIPTablesMode(ctx, o)
}

func (s *serveOptions) newIPTablesMode(ctx context.Context, o *options) (*serveMode, error) {
	layout, prefix := proxyiptables.Scoped, "SVCT-"
	if s.replace {
		layout, prefix = proxyiptables.Replace, "KUBE-"
	}
	nfacct := ensureNFAcct(ctx)
	// A node-wide setting: scoped, it stays kube-proxy's to make (it
	// leaves route_localnet at 0 with --iptables-localhost-nodeports=false,
	// which operators choose for CVE-2020-8558).
	if s.replace && !s.dryRun && !s.cleanup && s.localhostNodePortsOn() {
		ensureRouteLocalnet()
	}
	var modes proxyiptables.Families
	for _, fam := range []corev1.IPFamily{corev1.IPv4Protocol, corev1.IPv6Protocol} {
		ipt, err := familyIPTables(ctx, fam, prefix)
		if err != nil {
			return nil, err
		}
		if ipt == nil {
			continue
		}
		node := expected.Node{Name: o.node, Family: fam, NFAcct: nfacct, MasqueradeAll: s.masqueradeAll, NodePortAddresses: s.nodePortAddresses,
			LocalhostNodePorts: &s.localhostNodePorts}
		if cidr, ok := o.clusterCIDRs[fam]; ok {
			node.LocalMode, node.LocalValue = expected.LocalClusterCIDR, cidr.String()
		}
		m := proxyiptables.NewMode(ipt, layout, node)
		m.Interfaces = localAddrs(ctx)
		modes = append(modes, m)
	}
	save := func(ctx context.Context) ([]dumpPart, error) {
		saved, err := modes.Save(ctx)
		if err != nil {
			return nil, err
		}
		parts := []dumpPart{{source.IPTablesSave, saved[corev1.IPv4Protocol]}}
		if b, ok := saved[corev1.IPv6Protocol]; ok {
			parts = append(parts, dumpPart{source.IP6TablesSave, b})
		}
		return parts, nil
	}
	return &serveMode{Mode: modes, state: serveState(o.node, o.clusterCIDRs, save)}, nil
}

// localAddrs reads the node's interface addresses, which kube-proxy
// matches --nodeport-addresses CIDRs against (loopback aside, which the
// generators add themselves).
func localAddrs(ctx context.Context) func() ([]netip.Addr, error) {
	return func() ([]netip.Addr, error) { return kipvs.LocalAddresses(ctx) }
}

// familyIPTables opens iptables (ip6tables for IPv6) on the backend
// whose chains named prefix it may own. It returns nil, without an
// error, for IPv6 when ip6tables is not usable here: as kube-proxy, such a
// node is served IPv4 only (logged).
func familyIPTables(ctx context.Context, fam corev1.IPFamily, prefix string) (*kiptables.Runner, error) {
	v6 := fam == corev1.IPv6Protocol
	ipt, err := kiptables.New(ctx, kiptables.Options{IPv6: v6})
	if err == nil {
		err = kiptables.CheckBackend(ctx, kiptables.OSExec{}, v6, ipt.Backend(), prefix)
	}
	var refused *kiptables.OtherBackendError
	if err != nil && v6 && !errors.As(err, &refused) {
		klog.InfoS("No IPv6 rules: ip6tables is not usable here", "reason", err)
		return nil, nil
	}
	return ipt, err
}

// ensureRouteLocalnet sets net.ipv4.conf.all.route_localnet=1, as
// kube-proxy does for localhost NodePorts: without it the kernel drops a
// packet from 127.0.0.1 that DNAT sends to a pod.
func ensureRouteLocalnet() {
	klog.InfoS("Allowing NodePorts on localhost; --iptables-localhost-nodeports=false or --nodeport-addresses without loopback would not")
	writeSysctl(sysctlDir, "net/ipv4/conf/all/route_localnet", 1)
}

// ensureNFAcct creates kube-proxy's nfacct counters; without them the
// rules are generated without "-m nfacct", as kube-proxy does when the
// kernel lacks nfnetlink_acct.
func ensureNFAcct(context.Context) bool {
	for _, n := range []string{nfacct.InvalidDropped, nfacct.LocalhostNodePorts} {
		if err := nfacct.Ensure(n); err != nil {
			klog.InfoS("Rules will not count packets with nfacct", "reason", err)
			return false
		}
	}
	return true
}

// newNFTMode programs kube-proxy's nftables layout in each family nft
// supports here, as kube-proxy does: scoped in table svctrace, replacing
// kube-proxy in table kube-proxy.
func (s *serveOptions) newNFTMode(ctx context.Context, o *options) (*serveMode, error) {
	layout := proxynft.Scoped
	if s.replace {
		layout = proxynft.Replace
	}
	var kernels []proxynft.Kernel
	for _, fam := range proxynft.Families {
		nft, err := knftables.New(fam, layout.TableName())
		if err != nil {
			if fam == knftables.IPv4Family {
				return nil, fmt.Errorf("--proxy-mode nftables needs nft >= 1.0.1 and the nf_tables module: %w", err)
			}
			klog.InfoS("No nftables table for this family", "family", fam, "reason", err)
			continue
		}
		read := func(ctx context.Context) (*dpnft.Table, error) {
			return knft.ListTable(ctx, knft.ExecRunner{}, string(fam), layout.TableName())
		}
		k := proxynft.Kernel{Family: fam, NFT: nft, Read: read}
		k.ClusterCIDR = o.clusterCIDRs[nftIPFamily(fam)]
		kernels = append(kernels, k)
	}
	ruleset := func(ctx context.Context) ([]dumpPart, error) {
		b, err := knft.ExecRunner{}.Run(ctx, "nft", "-j", "list", "ruleset")
		return []dumpPart{{source.NFTJSON, b}}, err
	}
	m := proxynft.NewMode(layout, dataplane.Node{Name: o.node, Flags: dataplane.ProxyFlags{MasqueradeAll: s.masqueradeAll}}, kernels)
	m.NodePortCIDRs, m.Interfaces = s.nodePortCIDRs(), localAddrs(ctx)
	return &serveMode{Mode: m, state: serveState(o.node, o.clusterCIDRs, ruleset)}, nil
}

func nftIPFamily(f knftables.Family) corev1.IPFamily {
	if f == knftables.IPv6Family {
		return corev1.IPv6Protocol
	}
	return corev1.IPv4Protocol
}
