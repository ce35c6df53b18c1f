package expected

import (
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"

	"github.com/svctrace/kubectl-svctrace/internal/netnstest"
)

// netns is a network namespace owned by one test.
type netns struct {
	t    *testing.T
	name string
}

func newNetns(t *testing.T) *netns {
	t.Helper()
	return &netns{t: t, name: netnstest.New(t, "gen")}
}

func (ns *netns) exec(stdin []byte, args ...string) string {
	ns.t.Helper()
	return netnstest.Exec(ns.t, ns.name, string(stdin), args...)
}

// tools names the iptables binaries of one family and backend.
type tools struct{ cmd, restore, save string }

func toolsFor(family corev1.IPFamily, backend string) tools {
	base := "iptables"
	if family == corev1.IPv6Protocol {
		base = "ip6tables"
	}
	return tools{base + "-" + backend, base + "-" + backend + "-restore", base + "-" + backend + "-save"}
}

// install applies a rule set the way kube-proxy does on a fresh node:
// create the ensured chains, insert the jumps, then restore.
func install(ns *netns, bin tools, rs *Ruleset) {
	for _, c := range rs.EnsuredChains {
		ns.exec(nil, bin.cmd, "-w", "-t", c.Table, "-N", c.Chain)
	}
	for _, j := range rs.Jumps {
		ns.exec(nil, append([]string{bin.cmd, "-w", "-t", j.Table, "-I", j.Chain}, j.Args()...)...)
	}
	ns.exec([]byte(rs.RestoreInput()), bin.restore, "-w", "--noflush", "--counters")
}

// backends are the iptables flavours a node may run; both must print the
// same normal form.
var backends = []string{"nft", "legacy"}

func needTools(t *testing.T, bin tools) {
	t.Helper()
	for _, b := range []string{bin.cmd, bin.restore, bin.save} {
		if _, err := exec.LookPath(b); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s not installed; CI must run this test (hack/install-deps.sh installs it)", b)
			}
			t.Skipf("%s not installed", b)
		}
	}
}

var counters = regexp.MustCompile(`^\[\d+:\d+\] `)

// kubeProxyPart keeps what SaveTable models from iptables-save output: the
// table line, KUBE- chain declarations (counters zeroed), all rules
// (without counters) and COMMIT.
func kubeProxyPart(save string) string {
	var b strings.Builder
	for _, l := range strings.Split(save, "\n") {
		l = counters.ReplaceAllString(l, "")
		switch {
		case strings.HasPrefix(l, ":KUBE-"):
			b.WriteString(strings.Fields(l)[0] + " - [0:0]\n")
		case strings.HasPrefix(l, "*"), strings.HasPrefix(l, "-A "), l == "COMMIT":
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}

// TestRoundTrip restores every scenario into a fresh network namespace
// with the system's iptables and checks that iptables-save prints exactly
// the normalised form.
func TestRoundTrip(t *testing.T) {
	netnstest.Require(t, "ip")
	large := upstreamNode()
	large.NFAcct, large.MasqueradeAll = false, true
	svcs, slices := largeClusterInput(true)
	all := append(scenarios(), scenario{name: "large-cluster", node: large, services: svcs, slices: slices})
	for _, backend := range backends {
		for _, sc := range all {
			t.Run(backend+"/"+sc.name, func(t *testing.T) {
				rs, err := Generate(sc.node, sc.services, sc.slices)
				if err != nil {
					t.Fatal(err)
				}
				checkRoundTrip(t, toolsFor(rs.Family, backend), rs, TableFilter, TableNAT, TableMangle)
			})
		}
	}
}

func checkRoundTrip(t *testing.T, bin tools, rs *Ruleset, tables ...string) {
	t.Helper()
	needTools(t, bin)
	ns := newNetns(t)
	install(ns, bin, rs)
	for _, table := range tables {
		want, err := rs.SaveTable(table)
		if err != nil {
			t.Fatal(err)
		}
		got := kubeProxyPart(ns.exec(nil, bin.save, "-t", table))
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s table differs (-normalised +%s):\n%s", table, bin.save, diff)
		}
	}
}

func TestRoundTripUpstream(t *testing.T) {
	netnstest.Require(t, "ip")
	n := upstreamNode()
	// The namespace's kernel may lack xt_nfacct; the nfacct match is
	// covered by TestNormalize.
	n.NFAcct = false
	rs, err := Generate(n, overallServices(), overallSlices())
	if err != nil {
		t.Fatal(err)
	}
	for _, backend := range backends {
		t.Run(backend, func(t *testing.T) {
			checkRoundTrip(t, toolsFor(rs.Family, backend), rs, TableFilter, TableNAT)
		})
	}
}
