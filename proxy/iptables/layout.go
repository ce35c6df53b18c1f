package iptables

import (
	"strings"

	"github.com/svctrace/kubectl-svctrace/dataplane/iptables/expected"
)

// Layout decides the names of the chains the programmer owns: kube-proxy's
// own in replace mode, so a node served by --serve looks exactly like one
// served by kube-proxy, or, in scoped mode, every KUBE- chain, jump target
// and recent-list name renamed to SVCT- (expected.ServeLayout, the layout
// the trace judges such a node by).
type Layout struct {
	expected.Layout
}

// Layouts of the two modes.
var (
	Replace = Layout{expected.KubeProxyLayout}
	Scoped  = Layout{expected.ServeLayout}
)

const kubePrefix = "KUBE-"

func (l Layout) prefix() string {
	if l.Kube() {
		return kubePrefix
	}
	return l.Prefix
}

// replacing reports whether the layout is kube-proxy's own.
func (l Layout) replacing() bool { return l.Kube() }

// owns reports whether chain belongs to the programmer. In scoped mode
// every chain with the prefix does. In replace mode kube-proxy's shared
// chains and per-service chains do, but not KUBE-FIREWALL and
// KUBE-KUBELET-CANARY, which kubelet also writes: they are updated when
// wanted and never deleted.
func (l Layout) owns(chain string) bool {
	if !l.replacing() {
		return strings.HasPrefix(chain, l.prefix())
	}
	if expected.IsServiceChain(chain) {
		return true
	}
	switch chain {
	case expected.ChainServices, expected.ChainExternalServices, expected.ChainNodePorts,
		expected.ChainPostrouting, expected.ChainMarkMasq, expected.ChainForward,
		expected.ChainProxyFirewall, expected.ChainCanary:
		return true
	}
	return false
}

// perService reports whether chain serves a single Service port (and is
// rewritten whole when it changes) rather than being shared by all.
func (l Layout) perService(chain string) bool {
	if !l.replacing() {
		chain = kubePrefix + strings.TrimPrefix(chain, l.prefix())
	}
	return expected.IsServiceChain(chain)
}
