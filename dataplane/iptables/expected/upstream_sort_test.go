package expected

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
)

// dumpTable is one table of a restore-input text.
type dumpTable struct {
	name   string
	chains []string
	rules  map[string][]string
}

// sortLikeUpstream reorders restore input the way sortIPTablesRules in
// upstream proxier_test.go does, so that output can be compared with the
// expected dumps there: tables by name; chains with KUBE-NODEPORTS first,
// then KUBE-SERVICES, then the other KUBE- chains by name; rules grouped
// by chain; KUBE-NODEPORTS and KUBE-SERVICES rules stably ordered by the
// service name in their comment, the "must be the last rule" rule last.
func sortLikeUpstream(restore string) (string, error) {
	tables, err := parseDump(restore)
	if err != nil {
		return "", err
	}
	slices.SortFunc(tables, func(a, b *dumpTable) int { return strings.Compare(a.name, b.name) })
	var out strings.Builder
	for _, t := range tables {
		slices.SortStableFunc(t.chains, compareChains)
		for _, c := range []string{ChainNodePorts, ChainServices} {
			slices.SortStableFunc(t.rules[c], compareByService)
		}
		out.WriteString("*" + t.name + "\n")
		for _, c := range t.chains {
			out.WriteString(":" + c + " - [0:0]\n")
		}
		for _, c := range t.chains {
			for _, r := range t.rules[c] {
				out.WriteString(r + "\n")
			}
		}
		out.WriteString("COMMIT\n")
	}
	return out.String(), nil
}

func parseDump(text string) ([]*dumpTable, error) {
	var tables []*dumpTable
	var cur *dumpTable
	for i, line := range strings.Split(strings.TrimSpace(text), "\n") {
		switch {
		case strings.HasPrefix(line, "*"):
			cur = &dumpTable{name: line[1:], rules: map[string][]string{}}
			tables = append(tables, cur)
		case cur == nil:
			return nil, fmt.Errorf("line %d: %q outside a table", i+1, line)
		case strings.HasPrefix(line, ":"):
			cur.chains = append(cur.chains, strings.Fields(line[1:])[0])
		case strings.HasPrefix(line, "-A "):
			chain := strings.Fields(line)[1]
			cur.rules[chain] = append(cur.rules[chain], line)
		case line == "COMMIT":
			cur = nil
		default:
			return nil, fmt.Errorf("line %d: unexpected %q", i+1, line)
		}
	}
	return tables, nil
}

func chainRank(c string) int {
	switch {
	case c == ChainNodePorts:
		return 0
	case c == ChainServices:
		return 1
	case strings.HasPrefix(c, "KUBE-"):
		return 2
	}
	return 3
}

func compareChains(a, b string) int {
	if ra, rb := chainRank(a), chainRank(b); ra != rb {
		return ra - rb
	}
	return strings.Compare(a, b)
}

// compareByService orders rules by the service name in their comment (up
// to the first space or colon); rules without a comment keep their place
// relative to each other, and the nodeports jump stays last.
func compareByService(a, b string) int {
	ca, cb := commentOf(a), commentOf(b)
	lastA, lastB := strings.Contains(ca, "must be the last rule"), strings.Contains(cb, "must be the last rule")
	switch {
	case lastA && !lastB:
		return 1
	case lastB && !lastA:
		return -1
	case ca == "" || cb == "":
		return 0
	}
	return strings.Compare(serviceOfComment(ca), serviceOfComment(cb))
}

func commentOf(line string) string {
	args := splitArgs(line)
	for i := 0; i+1 < len(args); i++ {
		if args[i] == "--comment" {
			return args[i+1]
		}
	}
	return ""
}

func serviceOfComment(c string) string {
	if i := strings.IndexAny(c, " :"); i >= 0 {
		return c[:i]
	}
	return c
}

// readUpstream loads an expected dump copied from upstream, without its
// leading "#" provenance lines.
func readUpstream(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile("testdata/upstream-" + name + ".txt")
	if err != nil {
		t.Fatalf("read upstream dump: %v", err)
	}
	var keep []string
	for _, l := range strings.Split(string(data), "\n") {
		if !strings.HasPrefix(l, "#") {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}
