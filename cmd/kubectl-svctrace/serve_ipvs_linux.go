//go:build linux

package main

import (
	"context"
	"errors"
	"fmt"
	"net/netip"

	corev1 "k8s.io/api/core/v1"

	model "github.com/svctrace/kubectl-svctrace/dataplane/ipvs"
	"github.com/svctrace/kubectl-svctrace/kernel/ipset"
	kipvs "github.com/svctrace/kubectl-svctrace/kernel/ipvs"
	proxyipvs "github.com/svctrace/kubectl-svctrace/proxy/ipvs"
)

// newIPVSMode opens IPVS, ip sets and iptables; a kernel without IPVS or
// ip_set is refused in one line naming the module.
func (s *serveOptions) newIPVSMode(ctx context.Context, o *options) (*serveMode, error) {
	exclude, err := s.excludeCIDRs()
	if err != nil {
		return nil, err
	}
	k, err := kipvs.NewNetlink(ctx)
	if errors.Is(err, kipvs.ErrNoIPVS) {
		return nil, fmt.Errorf("--proxy-mode ipvs: the kernel has no IPVS (module ip_vs): run \"modprobe ip_vs ip_vs_%s\" on the node, or use --proxy-mode iptables", s.ipvsScheduler)
	}
	if err != nil {
		return nil, err
	}
	sets, err := ipset.NewNetlink(ctx)
	if errors.Is(err, ipset.ErrNoIPSet) {
		return nil, errors.New("--proxy-mode ipvs: the kernel has no ip sets (module ip_set): run \"modprobe ip_set\" on the node, or use --proxy-mode iptables")
	}
	if err != nil {
		return nil, err
	}
	layout := proxyipvs.Scoped
	if s.replace {
		layout = proxyipvs.Replace
	}
	k.Dummy = layout.Interface
	if !s.dryRun && !s.cleanup {
		ensureIPVSSysctls()
	}
	local := func(ctx context.Context) ([]netip.Addr, error) {
		return kipvs.LocalAddresses(ctx, model.DummyInterface, proxyipvs.Scoped.Interface)
	}
	// One proxier per family, as kube-proxy's: they share the IPVS table
	// and the dummy interface; the IPv6 one has its own sets and writes
	// through ip6tables.
	var modes proxyipvs.Families
	for _, fam := range []corev1.IPFamily{corev1.IPv4Protocol, corev1.IPv6Protocol} {
		ipt, err := familyIPTables(ctx, fam, layout.Prefix)
		if err != nil {
			return nil, err
		}
		if ipt == nil {
			continue
		}
		settings := proxyipvs.Settings{NodeName: o.node, Scheduler: s.ipvsScheduler, ClusterCIDR: o.clusterCIDRs[fam], MasqueradeAll: s.masqueradeAll, ExcludeCIDRs: exclude}
		l := layout.Family(fam == corev1.IPv6Protocol)
		modes = append(modes, proxyipvs.NewMode(k, sets, ipt, l, settings, local))
	}
	return &serveMode{Mode: modes, state: encodedState(modes.State)}, nil
}

// ensureIPVSSysctls sets what kube-proxy's IPVS mode sets: connection
// tracking of IPVS connections (without it the masquerade rules never
// see them), forwarding, and the expiry of connections to deleted real
// servers.
func ensureIPVSSysctls() {
	for _, name := range []string{"net/ipv4/vs/conntrack", "net/ipv4/ip_forward", "net/ipv4/vs/expire_nodest_conn", "net/ipv4/vs/expire_quiescent_template"} {
		writeSysctl(sysctlDir, name, 1)
	}
}
