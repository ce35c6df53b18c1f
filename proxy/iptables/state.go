package iptables

import (
	"context"
	"fmt"

	"github.com/svctrace/kubectl-svctrace/dataplane/iptables/expected"
)

// Save returns the node's rules as the trace reads them: iptables-save of
// the filter and nat tables, with counters, from the backend the mode
// writes to. /debug/state traces one Service against it.
func (m *Mode) Save(ctx context.Context) ([]byte, error) {
	var out []byte
	for _, t := range []string{expected.TableFilter, expected.TableNAT} {
		b, err := m.p.ipt.Save(ctx, t, true)
		if err != nil {
			return nil, fmt.Errorf("iptables-save -t %s: %w", t, err)
		}
		out = append(out, b...)
	}
	return out, nil
}
