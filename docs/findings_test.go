// Package docs holds the user documentation; its test keeps the finding
// catalog page in step with the code.
package docs

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/svctrace/kubectl-svctrace/trace"
)

var update = flag.Bool("update", false, "rewrite findings.md from the catalog")

func catalogMarkdown() string {
	var b strings.Builder
	b.WriteString(`# Findings

Every finding has a stable **ID** (scripts may match on it), a **severity**, a
**subject** (the object it is about, such as ` + "`pod/web-1`" + ` or ` + "`service/web:http`" + `), a
**message** and a **hint** with the next thing to do. Any finding of severity
` + "`error`" + ` makes ` + "`kubectl svctrace`" + ` exit with code 3.

This page is generated from the catalog in ` + "`trace/catalog.go`" + ` by
` + "`go test ./docs -update`" + `.
`)
	area := ""
	for _, e := range trace.Catalog() {
		if e.Area != area {
			area = e.Area
			fmt.Fprintf(&b, "\n## %s\n\n| ID | severity | meaning |\n|---|---|---|\n", area)
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", e.ID, e.Severity, e.Meaning)
	}
	return b.String()
}

func TestFindingsPageMatchesCatalog(t *testing.T) {
	got := catalogMarkdown()
	if *update {
		if err := os.WriteFile("findings.md", []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile("findings.md")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("docs/findings.md is stale; run go test ./docs -update (-file +catalog):\n%s", diff)
	}
}
