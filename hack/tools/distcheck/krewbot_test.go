package distcheck

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"text/template"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/yaml"
)

// TestKrewBotTemplate renders .krew.yaml as krew-release-bot does for this
// release (its addURIAndSha downloads the URI and adds its sha256; here the
// local archive of that name stands in) and compares the result with the
// manifest goreleaser wrote: later releases must publish what the first did.
func TestKrewBotTemplate(t *testing.T) {
	d := dist(t)
	meta := readMetadata(t, d)
	tmplText, err := os.ReadFile("../../../.krew.yaml")
	if err != nil {
		t.Fatal(err)
	}
	data := struct{ TagName string }{meta.Tag}
	funcs := template.FuncMap{"addURIAndSha": func(url, tag string) (string, error) {
		var u bytes.Buffer
		if err := template.Must(template.New("uri").Parse(url)).Execute(&u, data); err != nil {
			return "", err
		}
		return fmt.Sprintf("uri: %s\n    sha256: %s", u.String(), sha256File(t, filepath.Join(d, filepath.Base(u.String())))), nil
	}}
	var rendered bytes.Buffer
	if err := template.Must(template.New(".krew.yaml").Funcs(funcs).Parse(string(tmplText))).Execute(&rendered, data); err != nil {
		t.Fatalf("render .krew.yaml: %v", err)
	}
	// goreleaser's version is v+metadata version, the bot's the tag: in a
	// snapshot they differ, so compare both to the tag.
	var fromBot, fromGoreleaser map[string]any
	if err := yaml.Unmarshal(rendered.Bytes(), &fromBot); err != nil {
		t.Fatalf(".krew.yaml rendered is no YAML: %v\n%s", err, rendered.String())
	}
	gr, err := os.ReadFile(filepath.Join(d, manifestPath))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(gr, &fromGoreleaser); err != nil {
		t.Fatal(err)
	}
	fromGoreleaser["spec"].(map[string]any)["version"] = meta.Tag
	sortPlatforms(fromBot)
	sortPlatforms(fromGoreleaser)
	if diff := cmp.Diff(fromGoreleaser, fromBot); diff != "" {
		t.Errorf(".krew.yaml as krew-release-bot renders it differs from goreleaser's manifest (-goreleaser +bot):\n%s", diff)
	}
}

// sortPlatforms orders spec.platforms by URI.
func sortPlatforms(m map[string]any) {
	ps, _ := m["spec"].(map[string]any)["platforms"].([]any)
	uri := func(p any) string { s, _ := p.(map[string]any)["uri"].(string); return s }
	sort.Slice(ps, func(i, j int) bool { return uri(ps[i]) < uri(ps[j]) })
}

// TestReleaseWorkflowPin: the release workflow's goreleaser-action installs
// the goreleaser this repository pins and tests with.
func TestReleaseWorkflowPin(t *testing.T) {
	mod, err := os.ReadFile("../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	wf, err := os.ReadFile("../../../.github/workflows/release.yaml")
	if err != nil {
		t.Fatal(err)
	}
	pinned := regexp.MustCompile(`(?m)^\s*github\.com/goreleaser/goreleaser/v2 (v\S+)`).FindSubmatch(mod)
	action := regexp.MustCompile(`(?m)^\s*version: (v\S+)`).FindSubmatch(wf)
	if pinned == nil || action == nil || string(pinned[1]) != string(action[1]) {
		t.Errorf("hack/tools/go.mod pins goreleaser %q, the release workflow installs %q", pinned, action)
	}
	if !strings.Contains(string(wf), "goreleaser/goreleaser-action@") || !strings.Contains(string(wf), "krew-release-bot@") {
		t.Error("the release workflow lacks goreleaser-action or krew-release-bot")
	}
}
