package distcheck

import (
	"archive/tar"
	"archive/zip"
	"bufio"
	"compress/gzip"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// releasePlatforms are the archives every release carries.
var releasePlatforms = []string{
	"linux/amd64", "linux/arm64", "darwin/amd64", "darwin/arm64", "windows/amd64", "windows/arm64",
}

func archiveName(platform string) string {
	goos, goarch, _ := strings.Cut(platform, "/")
	name := "kubectl-svctrace_" + goos + "_" + goarch
	if goos == "windows" {
		return name + ".zip"
	}
	return name + ".tar.gz"
}

// TestArchives opens every platform's archive: the binary, the licence, the
// README, the completion shim (executable) and every deploy/ manifest.
func TestArchives(t *testing.T) {
	d := dist(t)
	deploy, err := filepath.Glob("../../../deploy/*.yaml")
	if err != nil || len(deploy) == 0 {
		t.Fatalf("no deploy/*.yaml in the repository (%v)", err)
	}
	for _, p := range releasePlatforms {
		t.Run(p, func(t *testing.T) {
			files := archiveFiles(t, filepath.Join(d, archiveName(p)))
			bin := "kubectl-svctrace"
			if strings.HasPrefix(p, "windows/") {
				bin += ".exe"
			}
			want := []string{bin, "LICENSE", "README.md", "kubectl_complete-svctrace"}
			for _, f := range deploy {
				want = append(want, "deploy/"+filepath.Base(f))
			}
			for _, w := range want {
				mode, ok := files[w]
				switch {
				case !ok:
					t.Errorf("%s lacks %s; it holds %v", archiveName(p), w, keys(files))
				case (w == bin || w == "kubectl_complete-svctrace") && mode&0o111 == 0:
					t.Errorf("%s: %s is not executable (%v)", archiveName(p), w, mode)
				}
			}
		})
	}
}

// archiveFiles lists the regular files of a .tar.gz or .zip with their modes.
func archiveFiles(t *testing.T, path string) map[string]fs.FileMode {
	t.Helper()
	files := map[string]fs.FileMode{}
	if strings.HasSuffix(path, ".zip") {
		z, err := zip.OpenReader(path)
		if err != nil {
			t.Fatalf("open %s: %v", path, err)
		}
		defer z.Close()
		for _, f := range z.File {
			if f.Mode().IsRegular() {
				files[f.Name] = f.Mode()
			}
		}
		return files
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return files
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if h.Typeflag == tar.TypeReg {
			files[h.Name] = h.FileInfo().Mode()
		}
	}
}

// TestChecksums recomputes every sum in checksums.txt, which must cover
// every archive.
func TestChecksums(t *testing.T) {
	d := dist(t)
	f, err := os.Open(filepath.Join(d, "checksums.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	listed := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		sum, name, ok := strings.Cut(sc.Text(), "  ")
		if !ok {
			t.Fatalf("checksums.txt: bad line %q", sc.Text())
		}
		listed[name] = true
		if got := sha256File(t, filepath.Join(d, name)); got != sum {
			t.Errorf("checksums.txt says %s has sha256 %s; it has %s", name, sum, got)
		}
	}
	for _, p := range releasePlatforms {
		if !listed[archiveName(p)] {
			t.Errorf("checksums.txt does not list %s", archiveName(p))
		}
	}
}

func keys[V any](m map[string]V) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}
