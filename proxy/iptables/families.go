package iptables

import (
	"context"
	"errors"
	"fmt"
	"strings"

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

func (f Families) each(do func(*Mode) (proxy.Report, error)) (proxy.Report, error) {
	if len(f) == 1 {
		return do(f[0])
	}
	all := proxy.Report{Repairs: map[string]int{}}
	var lines []string
	var errs []error
	for _, m := range f {
		fam := string(m.Family())
		rep, err := do(m)
		if err != nil {
			// Counted as a restore failure, without a family, as
			// kube-proxy's iptables metrics are (FailedFamilies is for
			// nftables transactions).
			errs = append(errs, fmt.Errorf("%s: %w", fam, err))
		}
		all.Full = all.Full || rep.Full
		if rep.Changes != "" {
			// A comment line, which iptables-restore skips, says which
			// command each part of a dry run's output is for.
			all.Changes += fmt.Sprintf("# %s: %s --noflush\n", fam, restoreCommand(m.Family())) + rep.Changes
		}
		lines = append(lines, fam+" "+rep.Summary)
		for k, n := range rep.Repairs {
			all.Repairs[k] += n
		}
	}
	all.Summary = strings.Join(lines, "; ")
	return all, errors.Join(errs...)
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
