package distcheck

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// dist is what the tests read: SVCTRACE_DIST, checked once per test.
func dist(t *testing.T) string {
	t.Helper()
	d := os.Getenv("SVCTRACE_DIST")
	if d == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI=true but SVCTRACE_DIST is unset: run make test-release")
		}
		t.Skip("release tier; run make test-release (sets SVCTRACE_DIST after make dist)")
	}
	return d
}

// requireRoot skips, or fails under CI=true, a test that needs root.
func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("CI=true but not root: this check needs root (mount namespaces, chroot)")
	}
	t.Skip("needs root (mount namespaces, chroot)")
}

// metadata is goreleaser's dist/metadata.json.
type metadata struct {
	Version string `json:"version"`
	Tag     string `json:"tag"`
	Commit  string `json:"commit"`
	Date    string `json:"date"`
}

func readMetadata(t *testing.T, d string) metadata {
	t.Helper()
	var m metadata
	readJSON(t, filepath.Join(d, "metadata.json"), &m)
	if m.Version == "" || m.Commit == "" {
		t.Fatalf("%s/metadata.json names no version or commit: %+v", d, m)
	}
	return m
}

// artifact is an entry of goreleaser's dist/artifacts.json.
type artifact struct {
	Name   string `json:"name"`
	Path   string `json:"path"`
	GOOS   string `json:"goos"`
	GOARCH string `json:"goarch"`
	Type   string `json:"type"`
	Extra  struct {
		ID string `json:"ID"`
	} `json:"extra"`
}

func readArtifacts(t *testing.T, d string) []artifact {
	t.Helper()
	var arts []artifact
	readJSON(t, filepath.Join(d, "artifacts.json"), &arts)
	for i := range arts {
		// goreleaser records paths relative to the project root.
		if !filepath.IsAbs(arts[i].Path) {
			arts[i].Path = filepath.Join(filepath.Dir(d), arts[i].Path)
		}
	}
	return arts
}

// binary is the path of build id's binary for goos/goarch.
func binary(t *testing.T, arts []artifact, id, goos, goarch string) string {
	t.Helper()
	for _, a := range arts {
		if a.Type == "Binary" && a.Extra.ID == id && a.GOOS == goos && a.GOARCH == goarch {
			return a.Path
		}
	}
	t.Fatalf("artifacts.json has no %s binary for %s/%s", id, goos, goarch)
	return ""
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s (run make dist first): %v", path, err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("decode %s: %v", path, err)
	}
}

func sha256File(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return hex.EncodeToString(h.Sum(nil))
}
