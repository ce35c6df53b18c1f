// Package docs holds the user documentation; its test keeps the finding
// catalog page in step with the code.
package docs

import (
	"fmt"
	"strings"
	"testing"

	"github.com/svctrace/kubectl-svctrace/internal/golden"
	"github.com/svctrace/kubectl-svctrace/trace"
)

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
	golden.Check(t, "findings.md", []byte(catalogMarkdown()))
}
