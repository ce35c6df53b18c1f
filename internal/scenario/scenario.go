// Package scenario loads the YAML bundles under testdata/scenarios and
// traces a Service in them the way the command does, for tests.
package scenario

import (
	"context"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/svctrace/kubectl-svctrace/source"
	"github.com/svctrace/kubectl-svctrace/trace"
)

// Dir is the absolute path of testdata/scenarios.
func Dir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "testdata", "scenarios")
}

// Trace loads bundle (a file name in Dir) and traces Service ns/name.
func Trace(t testing.TB, bundle, ns, name string) *trace.Trace {
	t.Helper()
	return trace.Build(Input(t, bundle, ns, name))
}

// TraceFrom traces Service ns/name from pod from ("namespace/name"), as
// --from pod/NAME does.
func TraceFrom(t testing.TB, bundle, ns, name, from string) *trace.Trace {
	t.Helper()
	return trace.Build(InputFrom(t, bundle, ns, name, from))
}

// Input loads bundle and reads Service ns/name's neighbourhood, for tests
// that add observations before tracing.
func Input(t testing.TB, bundle, ns, name string) trace.Input {
	t.Helper()
	return InputFrom(t, bundle, ns, name, "")
}

// InputFrom is Input with a pod to trace from ("namespace/name", or "").
func InputFrom(t testing.TB, bundle, ns, name, from string) trace.Input {
	t.Helper()
	objs, err := source.LoadPaths([]string{filepath.Join(Dir(), bundle)}, nil, ns)
	if err != nil {
		t.Fatalf("load %s: %v", bundle, err)
	}
	in, err := source.Fetcher{Client: source.Offline(objs), Offline: true, FromPod: from}.Fetch(context.Background(), ns, name)
	if err != nil {
		t.Fatalf("fetch %s/%s from %s: %v", ns, name, bundle, err)
	}
	return *in
}
