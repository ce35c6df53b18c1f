package tui

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/svctrace/kubectl-svctrace/source"
	"github.com/svctrace/kubectl-svctrace/trace"
)

// scenarioTrace traces Service name of the objects in the repository's
// testdata file, as `kubectl svctrace name -f file` does, after edit (when
// set) changed the objects; dump, when set, is node-1's iptables-save.
func scenarioTrace(tb testing.TB, file, name string, edit func([]runtime.Object), dump []byte) *trace.Trace {
	tb.Helper()
	objs, err := source.LoadPaths([]string{filepath.Join("..", "testdata", file)}, nil, "default")
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
	in.Dataplane = &trace.DataplaneInput{}
	if dump != nil {
		if err := source.ParseDump(source.IPTablesSave, "node-1.iptables-save", dump, in.Dataplane); err != nil {
			tb.Fatal(err)
		}
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
	}, nil)
}

// readTestdata reads a file of the repository's testdata.
func readTestdata(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}
