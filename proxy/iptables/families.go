package iptables

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"

	"github.com/svctrace/kubectl-svctrace/proxy"
)

// Families is iptables mode on a node with more than one IP family: one
// Mode per family, the IPv6 one writing through ip6tables, as kube-proxy
// runs one proxier per family. A family that fails does not keep the
// other from syncing.
type Families []*Mode

var _ proxy.Mode = Families(nil)

// Name implements proxy.Mode.
func (f Families) Name() string { return "iptables" }

// Sync implements proxy.Mode.
func (f Families) Sync(ctx context.Context, objs proxy.Objects, full, dryRun bool) (proxy.Report, error) {
	return f.each(func(m *Mode) (proxy.Report, error) { return m.Sync(ctx, objs, full, dryRun) })
}

// Cleanup implements proxy.Mode.
func (f Families) Cleanup(ctx context.Context, dryRun bool) (proxy.Report, error) {
	return f.each(func(m *Mode) (proxy.Report, error) { return m.Cleanup(ctx, dryRun) })
}

// each runs do for each family. Failures are counted as restore
// failures, without a family, as kube-proxy's iptables metrics are
// (FailedFamilies is for nftables transactions).
func (f Families) each(do func(*Mode) (proxy.Report, error)) (proxy.Report, error) {
	family := func(m *Mode) string { return string(m.Family()) }
	// A comment line, which iptables-restore skips, says which command
	// each part of a dry run's output is for.
	header := func(m *Mode) string {
		return fmt.Sprintf("# %s: %s --noflush\n", m.Family(), restoreCommand(m.Family()))
	}
	return proxy.EachFamily(f, family, header, do)
}

// Save returns each family's rules as the trace reads them, in the order
// of f.
func (f Families) Save(ctx context.Context) (map[corev1.IPFamily][]byte, error) {
	out := map[corev1.IPFamily][]byte{}
	for _, m := range f {
		b, err := m.Save(ctx)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", m.Family(), err)
		}
		out[m.Family()] = b
	}
	return out, nil
}

func restoreCommand(f corev1.IPFamily) string {
	if f == corev1.IPv6Protocol {
		return "ip6tables-restore"
	}
	return "iptables-restore"
}
