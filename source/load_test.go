package source

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/yaml"

	"github.com/svctrace/kubectl-svctrace/internal/gendump"
	"github.com/svctrace/kubectl-svctrace/render"
	"github.com/svctrace/kubectl-svctrace/trace"
)

func writeDump(t testing.TB, dir string, o gendump.Options, f gendump.Format) string {
	t.Helper()
	p := filepath.Join(dir, "dump"+f.Ext())
	file, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	if err := gendump.Write(file, o, f); err != nil {
		t.Fatal(err)
	}
	return p
}

// traceOf traces ns/name from c as the command does offline, as the JSON
// document scripts read.
func traceOf(t *testing.T, c Cluster, ns, name, from string) string {
	t.Helper()
	in, err := Fetcher{Client: c, Offline: true, FromPod: from}.Fetch(context.Background(), ns, name)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := render.JSON(&b, trace.Build(*in)); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestLoadTracesAsTheWholeDump: reading only what one trace needs gives
// the trace that decoding every object gives, for YAML, JSON, gzip, and a
// bundle whose pods come before their Services.
func TestLoadTracesAsTheWholeDump(t *testing.T) {
	o := gendump.Options{Services: 30, Namespaces: 3}
	dir := t.TempDir()
	inputs := map[string]string{}
	for _, f := range []gendump.Format{{}, {JSON: true}, {Gzip: true}, {JSON: true, Gzip: true}} {
		inputs[f.Ext()] = writeDump(t, filepath.Join(dir, mkdir(t, dir, f.Ext())), o, f)
	}
	inputs["bundle"] = podsFirstBundle(t, dir, inputs[".yaml"])
	all, err := LoadPaths([]string{inputs[".yaml"]}, nil, "default")
	if err != nil {
		t.Fatal(err)
	}
	full := Offline(all)
	cases := []struct{ ns, name, from string }{
		{o.Namespace(4), gendump.Name(4), ""},                                                 // a pod not ready, its events
		{o.Namespace(10), gendump.Name(10), ""},                                               // all ready
		{o.Namespace(10), gendump.Name(11), ""},                                               // in another namespace: suggestions
		{o.Namespace(10), "app-0001", ""},                                                     // a typo: suggestions
		{o.Namespace(3), gendump.Name(3), o.Namespace(5) + "/" + "app-00005-7d9f8c6b5-00002"}, // --from a pod elsewhere
	}
	for input, p := range inputs {
		for _, c := range cases {
			store, err := Load(context.Background(), []string{p}, nil, "default", Want{Namespace: c.ns, Service: c.name, FromPod: c.from})
			if err != nil {
				t.Fatalf("%s: %v", input, err)
			}
			if store.Len() >= len(all)/2 {
				t.Errorf("%s %s/%s: kept %d of %d objects; want only the trace's", input, c.ns, c.name, store.Len(), len(all))
			}
			want, got := traceOf(t, full, c.ns, c.name, c.from), traceOf(t, store, c.ns, c.name, c.from)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s %s/%s: trace differs from the whole dump's (-whole +loaded):\n%s", input, c.ns, c.name, diff)
			}
		}
	}
}

func mkdir(t *testing.T, dir, name string) string {
	t.Helper()
	if err := os.Mkdir(filepath.Join(dir, name), 0o700); err != nil {
		t.Fatal(err)
	}
	return name
}

// podsFirstBundle splits a YAML List dump into a directory of per-kind
// files named so that pods.yaml.gz is read before services.yaml.
func podsFirstBundle(t *testing.T, dir, dump string) string {
	t.Helper()
	objs, err := Decode(dump, mustOpen(t, dump))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]*bytes.Buffer{}
	for _, o := range objs {
		name := map[string]string{"pod": "a-pods.yaml.gz", "service": "services.yaml"}[kindName(o)]
		if name == "" {
			name = "other/" + kindName(o) + ".json"
		}
		if files[name] == nil {
			files[name] = &bytes.Buffer{}
		}
		b, err := yamlOrJSON(name, o)
		if err != nil {
			t.Fatal(err)
		}
		files[name].Write(b)
	}
	bundle := filepath.Join(dir, "bundle")
	for name, b := range files {
		p := filepath.Join(bundle, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		data := b.Bytes()
		if strings.HasSuffix(name, ".gz") {
			var z bytes.Buffer
			zw := gzip.NewWriter(&z)
			_, _ = zw.Write(data)
			_ = zw.Close()
			data = z.Bytes()
		}
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(bundle, "node-1.iptables-save"), []byte("*filter\nCOMMIT\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return bundle
}

func mustOpen(t *testing.T, p string) *os.File {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// yamlOrJSON writes o as the next document of a YAML stream, or as the
// next of JSON values back to back, as the file name says.
func yamlOrJSON(name string, o runtime.Object) ([]byte, error) {
	kinds, _, err := scheme.Scheme.ObjectKinds(o)
	if err != nil {
		return nil, err
	}
	o.GetObjectKind().SetGroupVersionKind(kinds[0])
	if strings.Contains(name, ".json") {
		b, err := json.Marshal(o)
		return append(b, '\n'), err
	}
	b, err := yaml.Marshal(o)
	return append([]byte("---\n"), b...), err
}
