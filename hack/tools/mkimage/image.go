package main

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"os"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Where the image keeps its two programs; docs/release.md.
const (
	pluginPath   = "/usr/local/bin/kubectl-svctrace"
	hostexecPath = "/usr/local/bin/svctrace-hostexec"
	linkDir      = "/usr/sbin/"
)

// platformBins are one platform's two static binaries.
type platformBins struct {
	OS, Arch         string
	Plugin, Hostexec string // paths on this machine
}

// imageSpec is what every platform's image shares.
type imageSpec struct {
	Version, Commit, Source string
	Created                 time.Time
	Tools                   []string // linked to svctrace-hostexec
}

// buildIndex makes a multi-platform OCI index, one image per platform.
func buildIndex(spec imageSpec, bins []platformBins) (v1.ImageIndex, error) {
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	for _, b := range bins {
		img, err := buildImage(spec, b)
		if err != nil {
			return nil, fmt.Errorf("image for %s/%s: %w", b.OS, b.Arch, err)
		}
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{
			Add:        img,
			Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: b.OS, Architecture: b.Arch}},
		})
	}
	return idx, nil
}

func buildImage(spec imageSpec, b platformBins) (v1.Image, error) {
	rootfs, err := rootfsTar(spec, b)
	if err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(rootfs)), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, fmt.Errorf("compress the layer: %w", err)
	}
	img, err := mutate.AppendLayers(mutate.MediaType(empty.Image, types.OCIManifestSchema1), layer)
	if err != nil {
		return nil, fmt.Errorf("add the layer: %w", err)
	}
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	cfg, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("read the config: %w", err)
	}
	cfg = cfg.DeepCopy()
	cfg.OS, cfg.Architecture = b.OS, b.Arch
	cfg.Created = v1.Time{Time: spec.Created}
	cfg.Config.Entrypoint = []string{pluginPath}
	cfg.Config.WorkingDir = "/"
	cfg.Config.Env = []string{"PATH=/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "SVCTRACE_HOST_ROOT=/host"}
	cfg.Config.Labels = map[string]string{
		"org.opencontainers.image.title":    "kubectl-svctrace",
		"org.opencontainers.image.version":  spec.Version,
		"org.opencontainers.image.revision": spec.Commit,
		"org.opencontainers.image.source":   spec.Source,
		"org.opencontainers.image.licenses": "Apache-2.0",
	}
	img, err = mutate.ConfigFile(img, cfg)
	if err != nil {
		return nil, fmt.Errorf("set the config: %w", err)
	}
	return mutate.CreatedAt(img, v1.Time{Time: spec.Created})
}

// rootfsTar is the image's only layer: the two binaries, a link per host
// tool, and the directories the pods mount or write to.
func rootfsTar(spec imageSpec, b platformBins) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	hdr := func(h *tar.Header) error {
		h.ModTime, h.Format = spec.Created, tar.FormatPAX
		return tw.WriteHeader(h)
	}
	for _, d := range []struct {
		name string
		mode int64
	}{{"host/", 0o755}, {"tmp/", 0o1777}, {"usr/", 0o755}, {"usr/local/", 0o755}, {"usr/local/bin/", 0o755}, {"usr/sbin/", 0o755}} {
		if err := hdr(&tar.Header{Typeflag: tar.TypeDir, Name: d.name, Mode: d.mode}); err != nil {
			return nil, err
		}
	}
	for _, f := range []struct{ name, src string }{{pluginPath, b.Plugin}, {hostexecPath, b.Hostexec}} {
		data, err := os.ReadFile(f.src)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", f.src, err)
		}
		if err := hdr(&tar.Header{Typeflag: tar.TypeReg, Name: f.name[1:], Mode: 0o755, Size: int64(len(data))}); err != nil {
			return nil, err
		}
		if _, err := tw.Write(data); err != nil {
			return nil, err
		}
	}
	for _, t := range append([]string{"chroot"}, spec.Tools...) {
		if err := hdr(&tar.Header{Typeflag: tar.TypeSymlink, Name: linkDir[1:] + t, Linkname: hostexecPath, Mode: 0o777}); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
