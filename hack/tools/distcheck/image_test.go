package distcheck

import (
	"archive/tar"
	"bytes"
	"debug/elf"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
)

// imageRepo is the image's name; docs/release.md and deploy/serve.yaml.
const imageRepo = "ghcr.io/svctrace/kubectl-svctrace"

// elfMachine is each image platform's CPU as the ELF header names it.
var elfMachine = map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64}

// TestImageLayout reads dist/image back: one index tagged with the release
// version holding linux/amd64 and linux/arm64 images whose entrypoint is
// the plugin goreleaser built for that platform, static, and whose host
// tools all lead to svctrace-hostexec.
func TestImageLayout(t *testing.T) {
	d := dist(t)
	meta, arts := readMetadata(t, d), readArtifacts(t, d)
	idx, desc := readIndex(t, d)
	tag := "v" + meta.Version
	if got := desc.Annotations["org.opencontainers.image.ref.name"]; got != tag {
		t.Errorf("layout tag %q, want %q", got, tag)
	}
	if got := desc.Annotations["io.containerd.image.name"]; got != imageRepo+":"+tag {
		t.Errorf("layout image name %q, want %s:%s", got, imageRepo, tag)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	var platforms []string
	for _, m := range im.Manifests {
		platforms = append(platforms, m.Platform.String())
		img, err := idx.Image(m.Digest)
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := img.ConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		p := m.Platform
		if cfg.OS != p.OS || cfg.Architecture != p.Architecture || cfg.Config.Labels["org.opencontainers.image.version"] != tag {
			t.Errorf("%s: config says %s/%s version %q", p, cfg.OS, cfg.Architecture, cfg.Config.Labels["org.opencontainers.image.version"])
		}
		if ep := cfg.Config.Entrypoint; len(ep) != 1 || ep[0] != "/usr/local/bin/kubectl-svctrace" {
			t.Errorf("%s: entrypoint %q, want the plugin", p, ep)
		}
		files := imageFiles(t, img)
		plugin := files["usr/local/bin/kubectl-svctrace"]
		want, err := os.ReadFile(binary(t, arts, "kubectl-svctrace", p.OS, p.Architecture))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(plugin.data, want) {
			t.Errorf("%s: the image's plugin (%d bytes) is not goreleaser's build (%d bytes)", p, len(plugin.data), len(want))
		}
		checkStaticELF(t, p.String()+" kubectl-svctrace", plugin.data, elfMachine[p.Architecture])
		checkStaticELF(t, p.String()+" svctrace-hostexec", files["usr/local/bin/svctrace-hostexec"].data, elfMachine[p.Architecture])
		for _, name := range append([]string{"chroot"}, toolNames(t)...) {
			if l := files["usr/sbin/"+name]; l.link != "/usr/local/bin/svctrace-hostexec" {
				t.Errorf("%s: /usr/sbin/%s links to %q, want svctrace-hostexec", p, name, l.link)
			}
		}
	}
	if strings.Join(platforms, " ") != "linux/amd64 linux/arm64" {
		t.Errorf("image platforms %v, want linux/amd64 and linux/arm64", platforms)
	}
}

func readIndex(t *testing.T, d string) (v1.ImageIndex, v1.Descriptor) {
	t.Helper()
	outer, err := layout.ImageIndexFromPath(filepath.Join(d, "image"))
	if err != nil {
		t.Fatalf("read the OCI layout: %v", err)
	}
	top, err := outer.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(top.Manifests) != 1 {
		t.Fatalf("index.json holds %d entries, want the one tagged index", len(top.Manifests))
	}
	idx, err := outer.ImageIndex(top.Manifests[0].Digest)
	if err != nil {
		t.Fatalf("index.json's entry is not an image index: %v", err)
	}
	return idx, top.Manifests[0]
}

func toolNames(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile("../../../internal/hostexec/tools.txt")
	if err != nil {
		t.Fatal(err)
	}
	return strings.Fields(string(data))
}

type imageFile struct {
	mode int64
	link string
	data []byte
}

// imageFiles is the image's flattened file system.
func imageFiles(t *testing.T, img v1.Image) map[string]imageFile {
	t.Helper()
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]imageFile{}
	for _, l := range layers {
		rc, err := l.Uncompressed()
		if err != nil {
			t.Fatal(err)
		}
		tr := tar.NewReader(rc)
		for {
			h, err := tr.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("read a layer: %v", err)
			}
			data, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			files[strings.TrimPrefix(h.Name, "./")] = imageFile{mode: h.Mode, link: h.Linkname, data: data}
		}
		rc.Close()
	}
	return files
}

// checkStaticELF: a scratch image has no loader, so a binary must ask for none.
func checkStaticELF(t *testing.T, what string, data []byte, machine elf.Machine) {
	t.Helper()
	f, err := elf.NewFile(bytes.NewReader(data))
	if err != nil {
		t.Errorf("%s is not an ELF binary: %v", what, err)
		return
	}
	if f.Machine != machine {
		t.Errorf("%s is built for %v, want %v", what, f.Machine, machine)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Errorf("%s is dynamically linked: the image has no loader", what)
		}
	}
}
