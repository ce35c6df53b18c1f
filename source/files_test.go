package source

import (
	"bytes"
	"compress/gzip"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
)

func TestDecodeErrorsNameFileAndLine(t *testing.T) {
	cases := []struct {
		name, input, want string
	}{
		{"bad indentation in second document",
			"apiVersion: v1\nkind: Service\nmetadata: {name: a}\n---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: b\n   labels: x\n",
			"dump.yaml:9:"},
		{"no kind", "# comment\n\nmetadata: {name: a}\n", "dump.yaml:3: document has no apiVersion/kind"},
		{"wrong field type", "apiVersion: v1\nkind: Service\nspec:\n  ports: 7\n", "dump.yaml:1: decode v1 Service"},
		{"bad list item", "apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Pod, spec: {containers: 3}}\n", "dump.yaml:4: item 0 of List: decode v1 Pod"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Decode("dump.yaml", strings.NewReader(tc.input))
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("err = %v, want prefix %q", err, tc.want)
			}
		})
	}
}

func TestDecodeListsJSONAndUnknownKinds(t *testing.T) {
	input := `{"apiVersion":"v1","kind":"List","items":[
	 {"apiVersion":"v1","kind":"Service","metadata":{"name":"a","namespace":"default"}},
	 {"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w"}},
	 {"apiVersion":"discovery.k8s.io/v1","kind":"EndpointSlice","metadata":{"name":"a-1"},"addressType":"IPv4"}]}`
	objs, err := Decode("dump.json", strings.NewReader(input))
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != 2 {
		t.Errorf("decoded %d objects, want 2 (the Widget skipped)", len(objs))
	}
}

func TestLoadPathsReadsDirectoriesAndStdin(t *testing.T) {
	dir := t.TempDir()
	svc := "apiVersion: v1\nkind: Service\nmetadata: {name: a, namespace: default}\n"
	if err := os.WriteFile(filepath.Join(dir, "svc.yaml"), []byte(svc), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("ignored"), 0o600); err != nil {
		t.Fatal(err)
	}
	objs, err := LoadPaths([]string{dir, "-"}, strings.NewReader(strings.ReplaceAll(svc, "name: a", "name: b")), "default")
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != 2 {
		t.Errorf("loaded %d objects, want 2", len(objs))
	}
	if _, err := LoadPaths([]string{filepath.Join(dir, "missing.yaml")}, nil, "default"); err == nil || !strings.Contains(err.Error(), "missing.yaml") {
		t.Errorf("missing file: err = %v, want it named", err)
	}
}

// Two `kubectl get -o json` outputs in one file are two JSON values back to
// back; both must be read.
func TestDecodeConcatenatedJSON(t *testing.T) {
	input := `{"apiVersion":"v1","kind":"Service","metadata":{"name":"a","namespace":"default"}}
{"apiVersion":"v1","kind":"List","items":[
  {"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","namespace":"default"}}]}
`
	objs, err := Decode("dump.json", strings.NewReader(input))
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != 2 {
		t.Fatalf("decoded %d objects, want the Service and the Pod", len(objs))
	}
	broken := strings.Replace(input, `"items":[`, `"items":[,`, 1)
	if _, err := Decode("dump.json", strings.NewReader(broken)); err == nil || !strings.HasPrefix(err.Error(), "dump.json:2: invalid character ','") {
		t.Errorf("broken second value: err = %v, want it at dump.json:2", err)
	}
	badType := strings.Replace(input, `"metadata":{"name":"p"`, `"spec":{"containers":3},"metadata":{"name":"p"`, 1)
	if _, err := Decode("dump.json", strings.NewReader(badType)); err == nil || !strings.HasPrefix(err.Error(), "dump.json:3: item 0 of List") {
		t.Errorf("bad second value: err = %v, want it at the item, dump.json:3", err)
	}
}

func TestLoadPathsDefaultsNamespacesAndDeduplicates(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	svc := "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {ports: [{port: 80}]}\n"
	node := "apiVersion: v1\nkind: Node\nmetadata: {name: node-1}\n"
	a := write("a.yaml", svc+"---\n"+node)
	objs, err := LoadPaths([]string{a, a, dir}, nil, "shop")
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != 2 {
		t.Fatalf("loaded %d objects, want 2: the same file given three times counts once", len(objs))
	}
	for _, o := range objs {
		m, _ := meta.Accessor(o)
		want := "shop"
		if _, isNode := o.(*corev1.Node); isNode {
			want = ""
		}
		if m.GetNamespace() != want {
			t.Errorf("%s %s: namespace %q, want %q", kindName(o), m.GetName(), m.GetNamespace(), want)
		}
	}
	b := write("b.yaml", strings.Replace(svc, "port: 80", "port: 81", 1))
	_, err = LoadPaths([]string{a, b}, nil, "shop")
	if err == nil || err.Error() != "service shop/web is given twice, differently, in "+a+" and "+b+"; pass one copy" {
		t.Errorf("conflicting copies: err = %v", err)
	}
}

// A malformed object the trace needs, in a gzip-compressed file of a
// bundle, is reported at its file and line.
func TestLoadNamesFileAndLineInGzip(t *testing.T) {
	dir := t.TempDir()
	text := "apiVersion: v1\nitems:\n- apiVersion: v1\n  kind: Service\n  metadata: {name: web, namespace: default}\n  spec: {selector: {app: web}}\n" +
		"- apiVersion: v1\n  kind: Pod\n  metadata:\n    labels:\n      app: web\n    name: web-0\n    namespace: default\n  spec:\n    containers: 3\nkind: List\n"
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	_, _ = zw.Write([]byte(text))
	_ = zw.Close()
	p := filepath.Join(dir, "objects.yaml.gz")
	if err := os.WriteFile(p, z.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(context.Background(), []string{dir}, nil, "default", Want{Namespace: "default", Service: "web"})
	if want := p + ":7: item 1 of List: decode v1 Pod"; err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("err = %v, want prefix %q", err, want)
	}
	// Another Service's trace does not need the pod, and skips it.
	if _, err := Load(context.Background(), []string{dir}, nil, "default", Want{Namespace: "shop", Service: "web"}); err != nil {
		t.Errorf("a trace that does not read the pod: %v", err)
	}
}
