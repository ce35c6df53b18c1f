package iptables

import (
	"strings"

	"github.com/svctrace/kubectl-svctrace/dataplane/iptables/expected"
)

// Layout decides the names of the chains the programmer owns.
//
// Replace mode uses kube-proxy's own names, so a node served by --serve
// looks exactly like one served by kube-proxy. Scoped mode renames every
// KUBE- chain, jump target and recent-list name to Prefix. The prefix is
// "SVCT-", not "SVCTRACE-": iptables limits chain names to 28 characters
// and kube-proxy's longest names (KUBE-SEP- + 16 hash characters = 25)
// leave room for only three more, so the prefix can be at most 8 long.
type Layout struct {
	// Prefix replaces "KUBE-" in every chain name; "KUBE-" (or empty)
	// keeps kube-proxy's layout.
	Prefix string
}

// Layouts of the two modes.
var (
	Replace = Layout{Prefix: kubePrefix}
	Scoped  = Layout{Prefix: "SVCT-"}
)

const kubePrefix = "KUBE-"

func (l Layout) prefix() string {
	if l.Prefix == "" {
		return kubePrefix
	}
	return l.Prefix
}

// replacing reports whether the layout is kube-proxy's own.
func (l Layout) replacing() bool { return l.prefix() == kubePrefix }

// Chain renames one chain name of kube-proxy's layout.
func (l Layout) Chain(name string) string {
	if l.replacing() || !strings.HasPrefix(name, kubePrefix) {
		return name
	}
	return l.prefix() + name[len(kubePrefix):]
}

// Spec renames every argument of a restore-input rule that names a
// kube-proxy chain or recent list. Comments never contain "KUBE-": they
// hold namespaces and names, which are lower case.
func (l Layout) Spec(spec string) string {
	if l.replacing() || !strings.Contains(spec, kubePrefix) {
		return spec
	}
	f := strings.Split(spec, " ")
	for i, a := range f {
		f[i] = l.Chain(a)
	}
	return strings.Join(f, " ")
}

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
