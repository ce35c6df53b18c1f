package render_test

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/svctrace/kubectl-svctrace/internal/golden"

	"github.com/svctrace/kubectl-svctrace/internal/scenario"
	"github.com/svctrace/kubectl-svctrace/render"
)

var goldenCases = []struct{ golden, bundle, svc, ns, from string }{
	{"healthy", "healthy.yaml", "web", "default", ""},
	{"notfound", "notfound.yaml", "web", "default", ""},
	{"selector-typo", "selector-typo.yaml", "hostnames", "default", ""},
	{"not-ready", "not-ready.yaml", "web", "default", ""},
	{"ports-named", "ports.yaml", "named", "default", ""},
	{"ports-numeric", "ports.yaml", "numeric", "default", ""},
	{"workloads-quota", "workloads.yaml", "quota", "default", ""},
	{"proxy-name-mesh", "proxy-name.yaml", "mesh", "default", ""},
	{"node-missing", "node-missing.yaml", "web", "default", ""},
	{"kinds-sticky", "kinds.yaml", "sticky", "default", ""},
	{"local-policy", "local-policy.yaml", "lb", "default", ""},
	{"netpol", "netpol.yaml", "web", "shop", ""},
	{"netpol-from", "netpol.yaml", "web", "shop", "locked/app-0"},
}

func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	golden.Check(t, filepath.Join("testdata", name), got)
}

func TestGolden(t *testing.T) {
	for _, tc := range goldenCases {
		t.Run(tc.golden, func(t *testing.T) {
			tr := scenario.TraceFrom(t, tc.bundle, tc.ns, tc.svc, tc.from)
			var text, wide, js, ym bytes.Buffer
			if err := render.Text(&text, tr, render.TextOptions{}); err != nil {
				t.Fatal(err)
			}
			if err := render.Text(&wide, tr, render.TextOptions{Wide: true}); err != nil {
				t.Fatal(err)
			}
			if err := render.JSON(&js, tr); err != nil {
				t.Fatal(err)
			}
			if err := render.YAML(&ym, tr); err != nil {
				t.Fatal(err)
			}
			checkGolden(t, tc.golden+".txt", text.Bytes())
			checkGolden(t, tc.golden+".wide.txt", wide.Bytes())
			checkGolden(t, tc.golden+".json", js.Bytes())
			for i, l := range strings.Split(text.String(), "\n") {
				if n := utf8.RuneCountInString(l); n > 80 {
					t.Errorf("line %d is %d columns wide: %q", i+1, n, l)
				}
			}
			if strings.Contains(text.String(), "\x1b[") {
				t.Error("colour codes in output without Color")
			}
			if !strings.HasPrefix(ym.String(), "apiVersion: svctrace.dev/v1alpha1\n") {
				t.Errorf("yaml does not start with the apiVersion: %q", ym.String()[:40])
			}
		})
	}
}

func TestColorOnlyWhenAsked(t *testing.T) {
	tr := scenario.Trace(t, "not-ready.yaml", "default", "web")
	var b bytes.Buffer
	if err := render.Text(&b, tr, render.TextOptions{Color: true}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "\x1b[33m⚠ warning") {
		t.Error("coloured output lacks the yellow warning marker")
	}
}
