package source

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
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
		{"bad list item", "apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Pod, spec: {containers: 3}}\n", "dump.yaml:1: item 0 of List: decode v1 Pod"},
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
	objs, err := LoadPaths([]string{dir, "-"}, strings.NewReader(strings.ReplaceAll(svc, "name: a", "name: b")))
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != 2 {
		t.Errorf("loaded %d objects, want 2", len(objs))
	}
	if _, err := LoadPaths([]string{filepath.Join(dir, "missing.yaml")}, nil); err == nil || !strings.Contains(err.Error(), "missing.yaml") {
		t.Errorf("missing file: err = %v, want it named", err)
	}
}
