// Command mkimage builds the plugin's container image without a container
// daemon: a scratch image per linux platform holding the static binaries
// goreleaser built into dist/, written as one OCI image layout tagged with
// the release version (docs/release.md).
//
//	mkimage -dist dist -tools internal/hostexec/tools.txt
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
)

func main() {
	dist := flag.String("dist", "dist", "goreleaser's output directory")
	repo := flag.String("repo", "ghcr.io/svctrace/kubectl-svctrace", "image repository")
	tools := flag.String("tools", "internal/hostexec/tools.txt", "host tools to link to svctrace-hostexec, one a line")
	flag.Parse()
	if err := run(*dist, *repo, *tools); err != nil {
		fmt.Fprintf(os.Stderr, "mkimage: %v\n", err)
		os.Exit(1)
	}
}

// Platforms are the image's; a node of another kind pulls nothing.
var platforms = []string{"linux/amd64", "linux/arm64"}

func run(dist, repo, toolsFile string) error {
	meta, err := readMetadata(dist)
	if err != nil {
		return err
	}
	bins, err := readBinaries(dist)
	if err != nil {
		return err
	}
	tools, err := os.ReadFile(toolsFile)
	if err != nil {
		return fmt.Errorf("read the tool list: %w", err)
	}
	created, err := time.Parse(time.RFC3339, meta.Date)
	if err != nil {
		return fmt.Errorf("metadata.json: bad date %q: %w", meta.Date, err)
	}
	spec := imageSpec{Version: "v" + meta.Version, Commit: meta.Commit, Source: "https://github.com/svctrace/kubectl-svctrace",
		Created: created.UTC(), Tools: strings.Fields(string(tools))}
	idx, err := buildIndex(spec, bins)
	if err != nil {
		return err
	}
	out := filepath.Join(dist, "image")
	if err := os.RemoveAll(out); err != nil {
		return err
	}
	p, err := layout.Write(out, empty.Index)
	if err != nil {
		return fmt.Errorf("create the OCI layout %s: %w", out, err)
	}
	ref := repo + ":" + spec.Version
	if err := p.AppendIndex(idx, layout.WithAnnotations(map[string]string{
		"org.opencontainers.image.ref.name": spec.Version,
		"io.containerd.image.name":          ref,
	})); err != nil {
		return fmt.Errorf("write the image to %s: %w", out, err)
	}
	return report(os.Stdout, filepath.Join(dist, "image.json"), ref, idx)
}

// metadata is the part of goreleaser's dist/metadata.json used here.
type metadata struct {
	Version string `json:"version"`
	Commit  string `json:"commit"`
	Date    string `json:"date"`
}

func readMetadata(dist string) (metadata, error) {
	var m metadata
	if err := readJSON(filepath.Join(dist, "metadata.json"), &m); err != nil {
		return m, err
	}
	if m.Version == "" || m.Commit == "" {
		return m, fmt.Errorf("%s/metadata.json names no version or commit; run goreleaser first", dist)
	}
	return m, nil
}

// artifact is an entry of goreleaser's dist/artifacts.json.
type artifact struct {
	Path   string `json:"path"`
	GOOS   string `json:"goos"`
	GOARCH string `json:"goarch"`
	Type   string `json:"type"`
	Extra  struct {
		ID string `json:"ID"`
	} `json:"extra"`
}

// readBinaries finds both programs for every image platform.
func readBinaries(dist string) ([]platformBins, error) {
	var arts []artifact
	if err := readJSON(filepath.Join(dist, "artifacts.json"), &arts); err != nil {
		return nil, err
	}
	found := map[string]string{}
	for _, a := range arts {
		if a.Type == "Binary" {
			// goreleaser records paths relative to the project, dist's parent.
			if !filepath.IsAbs(a.Path) {
				a.Path = filepath.Join(filepath.Dir(dist), a.Path)
			}
			found[a.Extra.ID+" "+a.GOOS+"/"+a.GOARCH] = a.Path
		}
	}
	var bins []platformBins
	for _, p := range platforms {
		osName, arch, _ := strings.Cut(p, "/")
		b := platformBins{OS: osName, Arch: arch, Plugin: found["kubectl-svctrace "+p], Hostexec: found["svctrace-hostexec "+p]}
		if b.Plugin == "" || b.Hostexec == "" {
			return nil, fmt.Errorf("%s/artifacts.json lacks the kubectl-svctrace or svctrace-hostexec binary for %s; check .goreleaser.yaml's builds", dist, p)
		}
		bins = append(bins, b)
	}
	return bins, nil
}

func readJSON(path string, v any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read goreleaser's %s: %w", path, err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("decode %s: %w", path, err)
	}
	return nil
}
