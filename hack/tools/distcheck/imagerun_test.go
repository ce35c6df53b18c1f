package distcheck

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestImageRuns unpacks this machine's platform of the image and runs it
// the way node mode's pod does, without a container runtime: its root file
// system under chroot, with the host's root bound at /host in a private
// mount namespace. The plugin runs from the image, and the host tools the
// image links run the host's own binaries.
func TestImageRuns(t *testing.T) {
	d := dist(t)
	requireRoot(t)
	if runtime.GOOS != "linux" || elfMachine[runtime.GOARCH] == 0 {
		t.Fatalf("the image has no platform for this %s/%s machine", runtime.GOOS, runtime.GOARCH)
	}
	meta := readMetadata(t, d)
	idx, _ := readIndex(t, d)
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	rootfs := t.TempDir()
	for _, m := range im.Manifests {
		if m.Platform.Architecture != runtime.GOARCH {
			continue
		}
		img, err := idx.Image(m.Digest)
		if err != nil {
			t.Fatal(err)
		}
		unpack(t, rootfs, imageFiles(t, img))
	}
	inImage := func(args ...string) (string, error) {
		cmd := exec.Command("unshare", append([]string{"--mount", "--propagation", "private", "sh", "-c",
			`mount --bind / "$0/host" && exec chroot "$0" "$@"`, rootfs}, args...)...)
		cmd.Env = []string{"PATH=/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
		out, err := cmd.CombinedOutput()
		return string(out), err
	}

	out, err := inImage("/usr/local/bin/kubectl-svctrace", "version", "-o", "json")
	var v struct{ Version string }
	if err != nil || json.Unmarshal([]byte(out), &v) != nil || v.Version != "v"+meta.Version {
		t.Errorf("the image's plugin: version %q (want v%s), err %v:\n%s", v.Version, meta.Version, err, out)
	}
	if out, err := inImage("/usr/local/bin/kubectl-svctrace", "--demo"); err != nil || !strings.Contains(out, "Service default/hostnames") {
		t.Errorf("the image's plugin --demo: %v\n%s", err, out)
	}
	// Node mode's form (snapshot.Collector): chroot /host BINARY.
	host, _ := exec.Command("uname", "-rm").Output()
	if out, err := inImage("chroot", "/host", "uname", "-rm"); err != nil || out != string(host) {
		t.Errorf("chroot /host uname -rm in the image: %q, %v; the host says %q", out, err, host)
	}
	// A library's form: the tool by name, run from the host's root.
	for _, tool := range []string{"uname", "iptables", "nft"} {
		args := map[string][]string{"uname": {"-r"}, "iptables": {"--version"}, "nft": {"--version"}}[tool]
		want, werr := exec.Command(tool, args...).CombinedOutput()
		got, err := inImage(append([]string{tool}, args...)...)
		switch {
		case werr != nil:
			// Not on this host: the link must say so, as chroot would (127).
			if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 127 || !strings.Contains(got, tool+" not found in /host") {
				t.Errorf("%s is not on the host; in the image it gave %v:\n%s", tool, err, got)
			}
		case err != nil || got != string(want):
			t.Errorf("%s %s in the image: %q, %v; on the host %q", tool, args, got, err, want)
		}
	}
}

// unpack writes files (from imageFiles) under dir.
func unpack(t *testing.T, dir string, files map[string]imageFile) {
	t.Helper()
	// Sorted, a directory comes before what it holds.
	for _, name := range keys(files) {
		f, path := files[name], filepath.Join(dir, name)
		var err error
		switch {
		case strings.HasSuffix(name, "/"):
			err = os.MkdirAll(path, os.FileMode(f.mode&0o777))
		case f.link != "":
			if err = os.MkdirAll(filepath.Dir(path), 0o755); err == nil {
				err = os.Symlink(f.link, path)
			}
		default:
			if err = os.MkdirAll(filepath.Dir(path), 0o755); err == nil {
				err = os.WriteFile(path, f.data, os.FileMode(f.mode&0o777))
			}
		}
		if err != nil {
			t.Fatalf("unpack %s: %v", name, err)
		}
	}
}
