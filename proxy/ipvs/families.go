package ipvs

import (
	"context"

	corev1 "k8s.io/api/core/v1"

	"github.com/svctrace/kubectl-svctrace/proxy"
)

// Families is IPVS mode on a node with more than one IP family: one Mode
// per family, as kube-proxy runs one IPVS proxier per family. They share
// the IPVS table and the dummy interface, each owning its family's
// virtual servers and addresses there; the IPv6 one keeps its ip sets
// (KUBE-6-…, family inet6) and writes its rules through ip6tables. A
// family that fails does not keep the other from syncing.
type Families []*Mode

var _ proxy.Mode = Families(nil)

// Family is the IP family m programs.
func (m *Mode) Family() corev1.IPFamily {
	if m.layout.IPv6 {
		return corev1.IPv6Protocol
	}
	return corev1.IPv4Protocol
}

// Name implements proxy.Mode.
func (f Families) Name() string { return "ipvs" }

// Sync implements proxy.Mode.
func (f Families) Sync(ctx context.Context, objs proxy.Objects, full, dryRun bool) (proxy.Report, error) {
	return f.each(func(m *Mode) (proxy.Report, error) { return m.Sync(ctx, objs, full, dryRun) })
}

// Cleanup implements proxy.Mode.
func (f Families) Cleanup(ctx context.Context, dryRun bool) (proxy.Report, error) {
	return f.each(func(m *Mode) (proxy.Report, error) { return m.Cleanup(ctx, dryRun) })
}

func (f Families) each(do func(*Mode) (proxy.Report, error)) (proxy.Report, error) {
	family := func(m *Mode) string { return string(m.Family()) }
	header := func(m *Mode) string { return "# " + family(m) + "\n" }
	return proxy.EachFamily(f, family, header, do)
}

// State compares one Service's expected and programmed virtual servers,
// of every family.
func (f Families) State(ctx context.Context, objs proxy.Objects, namespace, name string) (any, error) {
	var all ServiceState
	for _, m := range f {
		st, err := m.serviceState(ctx, objs, namespace, name)
		if err != nil {
			return nil, err
		}
		if all.Service == "" {
			all = st
			continue
		}
		all.VirtualServers = append(all.VirtualServers, st.VirtualServers...)
		all.Drift = all.Drift || st.Drift
	}
	return all, nil
}
