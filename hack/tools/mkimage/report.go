package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// imageReport is dist/image.json: the image's name and each platform's
// size, for the release notes and docs/release.md.
type imageReport struct {
	Name      string           `json:"name"`
	Digest    string           `json:"digest"`
	Platforms []platformReport `json:"platforms"`
}

type platformReport struct {
	Platform string `json:"platform"`
	Digest   string `json:"digest"`
	// Compressed is what a node pulls; Uncompressed what it stores.
	Compressed   int64 `json:"compressedBytes"`
	Uncompressed int64 `json:"uncompressedBytes"`
}

func report(w io.Writer, path, ref string, idx v1.ImageIndex) error {
	digest, err := idx.Digest()
	if err != nil {
		return err
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return err
	}
	r := imageReport{Name: ref, Digest: digest.String()}
	for _, d := range im.Manifests {
		img, err := idx.Image(d.Digest)
		if err != nil {
			return err
		}
		p := platformReport{Platform: d.Platform.String(), Digest: d.Digest.String()}
		layers, err := img.Layers()
		if err != nil {
			return err
		}
		for _, l := range layers {
			c, err := l.Size()
			if err != nil {
				return err
			}
			u, err := uncompressedSize(l)
			if err != nil {
				return err
			}
			p.Compressed, p.Uncompressed = p.Compressed+c, p.Uncompressed+u
		}
		r.Platforms = append(r.Platforms, p)
		fmt.Fprintf(w, "mkimage: %s %s: %.1f MiB compressed, %.1f MiB uncompressed\n",
			ref, p.Platform, mib(p.Compressed), mib(p.Uncompressed))
	}
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(data, '\n'), 0o644)
}

func uncompressedSize(l v1.Layer) (int64, error) {
	rc, err := l.Uncompressed()
	if err != nil {
		return 0, err
	}
	defer rc.Close()
	return io.Copy(io.Discard, rc)
}

func mib(n int64) float64 { return float64(n) / (1 << 20) }
