//go:build linux

package main

import (
	"context"

	"k8s.io/klog/v2"

	"github.com/svctrace/kubectl-svctrace/dataplane/iptables/expected"
	kiptables "github.com/svctrace/kubectl-svctrace/kernel/iptables"
	"github.com/svctrace/kubectl-svctrace/kernel/nfacct"
	"github.com/svctrace/kubectl-svctrace/proxy"
	proxyiptables "github.com/svctrace/kubectl-svctrace/proxy/iptables"
	"github.com/svctrace/kubectl-svctrace/source"
)

// serveMode is a proxy mode that can also answer /debug/state.
type serveMode struct {
	proxy.Mode
	state proxy.StateFunc
}

func (s *serveOptions) newMode(ctx context.Context, o *options) (*serveMode, error) {
	if s.mode == "ipvs" {
		return s.newIPVSMode(ctx, o)
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
