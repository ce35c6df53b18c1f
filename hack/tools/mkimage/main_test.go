package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/layout"
)

// fakeDist writes goreleaser's metadata and artifact lists for the given
// binaries (ID platform → contents) into a temporary dist directory.
func fakeDist(t *testing.T, bins map[string]string) string {
	t.Helper()
	d := t.TempDir()
	var arts []map[string]any
	for key, content := range bins {
		id, platform, _ := strings.Cut(key, " ")
		goos, goarch, _ := strings.Cut(platform, "/")
		path := filepath.Join(d, id+"_"+goos+"_"+goarch)
		if err := os.WriteFile(path, []byte(content), 0o755); err != nil {
			t.Fatal(err)
		}
		arts = append(arts, map[string]any{"path": path, "goos": goos, "goarch": goarch, "type": "Binary", "extra": map[string]string{"ID": id}})
	}
	write := func(name string, v any) {
		data, _ := json.Marshal(v)
		if err := os.WriteFile(filepath.Join(d, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("artifacts.json", arts)
	write("metadata.json", map[string]string{"version": "1.2.3", "commit": "0123456789abcdef", "date": "2026-12-04T10:00:00.5Z"})
	return d
}

func TestRun(t *testing.T) {
	d := fakeDist(t, map[string]string{
		"kubectl-svctrace linux/amd64": "plugin-amd64", "svctrace-hostexec linux/amd64": "hostexec-amd64",
		"kubectl-svctrace linux/arm64": "plugin-arm64", "svctrace-hostexec linux/arm64": "hostexec-arm64",
		"kubectl-svctrace darwin/arm64": "not in the image",
	})
	tools := filepath.Join(t.TempDir(), "tools.txt")
	if err := os.WriteFile(tools, []byte("iptables\nnft\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := run(d, "example.com/svctrace", tools); err != nil {
		t.Fatal(err)
	}
	p, err := layout.FromPath(filepath.Join(d, "image"))
	if err != nil {
		t.Fatal(err)
	}
	top, err := p.ImageIndex()
	if err != nil {
		t.Fatal(err)
	}
	im, err := top.IndexManifest()
	if err != nil || len(im.Manifests) != 1 || im.Manifests[0].Annotations["io.containerd.image.name"] != "example.com/svctrace:v1.2.3" {
		t.Fatalf("index.json: %+v, %v; want one entry named example.com/svctrace:v1.2.3", im, err)
	}
	var rep imageReport
	data, err := os.ReadFile(filepath.Join(d, "image.json"))
	if err != nil || json.Unmarshal(data, &rep) != nil {
		t.Fatalf("image.json: %v\n%s", err, data)
	}
	if rep.Name != "example.com/svctrace:v1.2.3" || len(rep.Platforms) != 2 ||
		rep.Platforms[0].Platform != "linux/amd64" || rep.Platforms[1].Platform != "linux/arm64" {
		t.Errorf("image.json = %+v", rep)
	}
	for _, pl := range rep.Platforms {
		// Two files of 12–14 bytes, their directories and 3 links in tar.
		if pl.Compressed <= 0 || pl.Uncompressed < 1024 || pl.Uncompressed > 64*1024 {
			t.Errorf("%s: sizes %d/%d bytes", pl.Platform, pl.Compressed, pl.Uncompressed)
		}
	}
}

func TestRunMissingBinary(t *testing.T) {
	d := fakeDist(t, map[string]string{"kubectl-svctrace linux/amd64": "x", "svctrace-hostexec linux/amd64": "y", "kubectl-svctrace linux/arm64": "z"})
	err := run(d, "example.com/svctrace", "/dev/null")
	if err == nil || !strings.Contains(err.Error(), "lacks the kubectl-svctrace or svctrace-hostexec binary for linux/arm64") {
		t.Errorf("run without the arm64 hostexec: %v", err)
	}
}
