//go:build linux

package main

import (
	"context"
	"fmt"
	"net/netip"

	"k8s.io/klog/v2"
	"sigs.k8s.io/knftables"

	"github.com/svctrace/kubectl-svctrace/dataplane"
	"github.com/svctrace/kubectl-svctrace/dataplane/iptables/expected"
	dpnft "github.com/svctrace/kubectl-svctrace/dataplane/nftables"
	kiptables "github.com/svctrace/kubectl-svctrace/kernel/iptables"
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
		return s.newNFTMode(o)
	}
	return s.newIPTablesMode(ctx, o)
}

func (s *serveOptions) newIPTablesMode(ctx context.Context, o *options) (*serveMode, error) {
	ipt, err := kiptables.New(ctx, kiptables.Options{})
	if err != nil {
		return nil, err
	}
	layout, prefix := proxyiptables.Scoped, "SVCT-"
	if s.replace {
		layout, prefix = proxyiptables.Replace, "KUBE-"
	}
	if err := kiptables.CheckBackend(ctx, kiptables.OSExec{}, false, ipt.Backend(), prefix); err != nil {
		return nil, err
	}
	node := expected.Node{Name: o.node, NFAcct: ensureNFAcct(ctx)}
	if o.clusterCIDR != "" {
		node.LocalMode, node.LocalValue = expected.LocalClusterCIDR, o.clusterCIDR
	}
	m := proxyiptables.NewMode(ipt, layout, node)
	save := func(ctx context.Context) (source.DumpKind, []byte, error) {
		b, err := m.Save(ctx)
		return source.IPTablesSave, b, err
	}
	return &serveMode{Mode: m, state: serveState(o.node, o.clusterCIDR, save)}, nil
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
func (s *serveOptions) newNFTMode(o *options) (*serveMode, error) {
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
		kernels = append(kernels, proxynft.Kernel{Family: fam, NFT: nft, Read: read})
	}
	node := dataplane.Node{Name: o.node}
	if o.clusterCIDR != "" {
		cidr, err := netip.ParsePrefix(o.clusterCIDR)
		if err != nil {
			return nil, fmt.Errorf("--cluster-cidr %q: %w", o.clusterCIDR, err)
		}
		node.Flags.ClusterCIDR = cidr
	}
	ruleset := func(ctx context.Context) (source.DumpKind, []byte, error) {
		b, err := knft.ExecRunner{}.Run(ctx, "nft", "-j", "list", "ruleset")
		return source.NFTJSON, b, err
	}
	return &serveMode{Mode: proxynft.NewMode(layout, node, kernels), state: serveState(o.node, o.clusterCIDR, ruleset)}, nil
}
