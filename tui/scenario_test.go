package tui

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/svctrace/kubectl-svctrace/source"
	"github.com/svctrace/kubectl-svctrace/trace"
)

// scenarioTrace traces Service name of the objects in the repository's
// testdata file, as `kubectl svctrace name -f file` does with the dumps,
// after edit (when set) changed the objects.
func scenarioTrace(tb testing.TB, file, name string, edit func([]runtime.Object), dumps source.DumpPaths) *trace.Trace {
	tb.Helper()
	return scenarioTraceOf(tb, file, name, edit, dumps, false)
}

// everyEntryTrace is scenarioTrace as the command builds it for the UI:
// with walks from every entry (pod, node, external), so that the reader
// chooses the packet.
func everyEntryTrace(tb testing.TB, file, name string, dumps source.DumpPaths) *trace.Trace {
	tb.Helper()
	return scenarioTraceOf(tb, file, name, nil, dumps, true)
}

func scenarioTraceOf(tb testing.TB, file, name string, edit func([]runtime.Object), dumps source.DumpPaths, every bool) *trace.Trace {
	tb.Helper()
	objs, err := source.LoadPaths([]string{testdata(file)}, nil, "default")
	if err != nil {
		tb.Fatalf("load %s: %v", file, err)
	}
	if edit != nil {
		edit(objs)
	}
	in, err := source.Fetcher{Client: source.Offline(objs), Offline: true}.Fetch(context.Background(), "default", name)
	if err != nil {
		tb.Fatalf("fetch %s: %v", name, err)
	}
	in.Dataplane = &trace.DataplaneInput{EveryEntry: every}
	if err := source.LoadDumps(dumps, nil, in.Dataplane); err != nil {
		tb.Fatal(err)
	}
	return trace.Build(*in)
}

// stickyTrace is the "sticky" Service of kinds.yaml (ClientIP affinity)
// with n ready endpoints.
func stickyTrace(tb testing.TB, n int) *trace.Trace {
	tb.Helper()
	return scenarioTrace(tb, "scenarios/kinds.yaml", "sticky", func(objs []runtime.Object) {
		for _, o := range objs {
			s, ok := o.(*discoveryv1.EndpointSlice)
			if !ok || s.Name != "sticky-abc12" {
				continue
			}
			ready := true
			for len(s.Endpoints) < n {
				e := *s.Endpoints[0].DeepCopy()
				e.Addresses, e.TargetRef = []string{fmt.Sprintf("10.244.1.%d", 20+len(s.Endpoints))}, nil
				s.Endpoints = append(s.Endpoints, e)
			}
			s.Endpoints = s.Endpoints[:n]
			for i := range s.Endpoints {
				s.Endpoints[i].Conditions.Ready, s.Endpoints[i].Conditions.Serving = &ready, &ready
			}
		}
	}, source.DumpPaths{})
}

// testdata is the path of a file of the repository's testdata.
func testdata(name string) string { return filepath.Join("..", "testdata", name) }

// editedDump is a copy of a testdata dump, in a temporary directory, with
// line n (from 1) replaced by edit's answer.
func editedDump(tb testing.TB, name string, n int, edit func(string) string) string {
	tb.Helper()
	b, err := os.ReadFile(testdata(name))
	if err != nil {
		tb.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	lines[n-1] = edit(lines[n-1])
	out := filepath.Join(tb.TempDir(), filepath.Base(name))
	if err := os.WriteFile(out, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
		tb.Fatal(err)
	}
	return out
}
