package expected

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/svctrace/kubectl-svctrace/internal/golden"
)

func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	golden.Check(t, filepath.Join("testdata", name+".golden"), []byte(got))
}

// TestGolden generates every scenario and compares the restore input, the
// iptables-save form and the per-service summary with reviewed goldens.
func TestGolden(t *testing.T) {
	for _, sc := range scenarios() {
		t.Run(sc.name, func(t *testing.T) {
			rs, err := Generate(sc.node, sc.services, sc.slices)
			if err != nil {
				t.Fatal(err)
			}
			checkGolden(t, sc.name+".restore", rs.RestoreInput())
			save, err := rs.Save()
			if err != nil {
				t.Fatal(err)
			}
			checkGolden(t, sc.name+".save", save)
			checkGolden(t, sc.name+".services", describe(rs))
		})
	}
}

func TestGoldenJumps(t *testing.T) {
	rs, err := Generate(kindNode(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, j := range rs.Jumps {
		fmt.Fprintf(&b, "-t %s -I %s %s\n", j.Table, j.Chain, j.Spec)
	}
	for _, c := range rs.EnsuredChains {
		fmt.Fprintf(&b, "-t %s -N %s\n", c.Table, c.Chain)
	}
	checkGolden(t, "jumps", b.String())
}

// describe renders the per-service view a drift checker uses.
func describe(rs *Ruleset) string {
	var b strings.Builder
	fmt.Fprintf(&b, "family=%s large-cluster=%t\n", rs.Family, rs.LargeCluster)
	for _, w := range rs.Warnings {
		fmt.Fprintf(&b, "warning: %s\n", w)
	}
	for _, sp := range rs.Services {
		fmt.Fprintf(&b, "\n%s %s %s:%d", sp.ID, protoString(sp.Protocol), sp.ClusterIP, sp.Port)
		if sp.NodePort != 0 {
			fmt.Fprintf(&b, " nodePort=%d", sp.NodePort)
		}
		fmt.Fprintf(&b, " noEndpoints=%t noLocalInternal=%t noLocalExternal=%t\n",
			sp.NoEndpoints(), sp.NoLocalInternal, sp.NoLocalExternal)
		for _, name := range sp.ServiceChains() {
			fmt.Fprintf(&b, "  chain %s\n", name)
		}
		writeEndpoints(&b, "cluster", sp.ClusterEndpoints)
		writeEndpoints(&b, "local", sp.LocalEndpoints)
		writeEndpoints(&b, "sep", sp.Reachable)
	}
	return b.String()
}

func writeEndpoints(b *strings.Builder, kind string, eps []Endpoint) {
	for _, e := range eps {
		fmt.Fprintf(b, "  %-7s %-24s %s local=%t ready=%t serving=%t terminating=%t",
			kind, e.Address, e.Chain, e.Local, e.Ready, e.Serving, e.Terminating)
		if e.Share != 0 {
			fmt.Fprintf(b, " share=%.4f probability=%q", e.Share, e.Probability)
		}
		b.WriteString("\n")
	}
}
