package distcheck

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"
)

// krewPlugin is the part of a krew manifest (krew.googlecontainertools.github.com/v1alpha2) checked here.
type krewPlugin struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name string `json:"name"`
	} `json:"metadata"`
	Spec struct {
		Version   string `json:"version"`
		Platforms []struct {
			URI      string `json:"uri"`
			Sha256   string `json:"sha256"`
			Bin      string `json:"bin"`
			Selector struct {
				MatchLabels map[string]string `json:"matchLabels"`
			} `json:"selector"`
		} `json:"platforms"`
	} `json:"spec"`
}

const manifestPath = "krew/svctrace.yaml"

func readManifest(t *testing.T, d string) krewPlugin {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(d, manifestPath))
	if err != nil {
		t.Fatalf("read the krew manifest: %v", err)
	}
	var p krewPlugin
	if err := yaml.Unmarshal(data, &p); err != nil {
		t.Fatalf("decode %s: %v", manifestPath, err)
	}
	return p
}

// TestKrewManifest: one platform per archive, whose URI names that archive
// in the tag's GitHub release and whose sha256 is the archive's.
func TestKrewManifest(t *testing.T) {
	d := dist(t)
	meta := readMetadata(t, d)
	p := readManifest(t, d)
	if p.Metadata.Name != "svctrace" || p.Kind != "Plugin" || p.Spec.Version != "v"+meta.Version {
		t.Errorf("manifest names plugin %q kind %q version %q; want svctrace, Plugin, v%s", p.Metadata.Name, p.Kind, p.Spec.Version, meta.Version)
	}
	prefix := "https://github.com/svctrace/kubectl-svctrace/releases/download/" + meta.Tag + "/"
	seen := map[string]bool{}
	for _, pl := range p.Spec.Platforms {
		platform := pl.Selector.MatchLabels["os"] + "/" + pl.Selector.MatchLabels["arch"]
		archive := archiveName(platform)
		seen[platform] = true
		if pl.URI != prefix+archive {
			t.Errorf("%s: uri %s, want %s", platform, pl.URI, prefix+archive)
		}
		if got := sha256File(t, filepath.Join(d, archive)); pl.Sha256 != got {
			t.Errorf("%s: sha256 %s, but %s has %s", platform, pl.Sha256, archive, got)
		}
		wantBin := "kubectl-svctrace"
		if strings.HasPrefix(platform, "windows/") {
			wantBin += ".exe"
		}
		if pl.Bin != wantBin {
			t.Errorf("%s: bin %q, want %q", platform, pl.Bin, wantBin)
		}
	}
	for _, pl := range releasePlatforms {
		if !seen[pl] {
			t.Errorf("the manifest has no platform %s", pl)
		}
	}
}

// TestKrewValidateAndInstall runs krew's own validate-krew-manifest, then
// installs every platform from its local archive as krew-index's CI does,
// and runs the plugin through krew's link with the real kubectl.
func TestKrewValidateAndInstall(t *testing.T) {
	d := dist(t)
	krewBin := os.Getenv("SVCTRACE_KREW_BIN")
	if krewBin == "" {
		t.Fatal("SVCTRACE_KREW_BIN is unset: make test-release builds krew and names its directory")
	}
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		t.Fatalf("kubectl is not on PATH: %v (install kubectl)", err)
	}
	// kubectl finds krew as the plugin kubectl-krew.
	pluginDir := t.TempDir()
	if err := os.Symlink(filepath.Join(krewBin, "krew"), filepath.Join(pluginDir, "kubectl-krew")); err != nil {
		t.Fatal(err)
	}
	manifest := filepath.Join(d, manifestPath)
	// The install of each platform below stands in for the download
	// validate-krew-manifest would make from the not yet published URIs.
	run(t, nil, filepath.Join(krewBin, "validate-krew-manifest"), "-manifest", manifest, "-skip-install")

	p := readManifest(t, d)
	for _, pl := range p.Spec.Platforms {
		goos, goarch := pl.Selector.MatchLabels["os"], pl.Selector.MatchLabels["arch"]
		t.Run(goos+"/"+goarch, func(t *testing.T) {
			root := t.TempDir()
			env := []string{"KREW_ROOT=" + root, "KREW_OS=" + goos, "KREW_ARCH=" + goarch, "KREW_NO_UPGRADE_CHECK=1",
				"PATH=" + filepath.Join(root, "bin") + string(os.PathListSeparator) + pluginDir + string(os.PathListSeparator) + os.Getenv("PATH")}
			archive := filepath.Join(d, filepath.Base(pl.URI))
			run(t, env, kubectl, "krew", "install", "--manifest="+manifest, "--archive="+archive)
			licence := filepath.Join(root, "store", "svctrace", p.Spec.Version, "LICENSE")
			if _, err := os.Stat(licence); err != nil {
				t.Errorf("krew did not install the licence: %v", err)
			}
			if goos != runtime.GOOS || goarch != runtime.GOARCH {
				return
			}
			out := run(t, env, kubectl, "svctrace", "--demo")
			if !strings.Contains(out, "Service default/hostnames") || !strings.Contains(out, "PodsNotReady") {
				t.Errorf("kubectl svctrace --demo through krew printed no demo trace:\n%s", out)
			}
			var v struct{ Version, Commit, Date string }
			if err := json.Unmarshal([]byte(run(t, env, kubectl, "svctrace", "version", "-o", "json")), &v); err != nil {
				t.Fatal(err)
			}
			meta := readMetadata(t, d)
			if v.Version != p.Spec.Version || !strings.HasPrefix(meta.Commit, v.Commit) || v.Commit == "" || !sameSecond(v.Date, meta.Date) {
				t.Errorf("installed plugin says version %q commit %q built %q; the manifest is %s, goreleaser built %s at %s",
					v.Version, v.Commit, v.Date, p.Spec.Version, meta.Commit, meta.Date)
			}
			// plugin list exits 1 when it warns of a shadowed plugin:
			// the order it prints is what counts.
			cmd := exec.Command(kubectl, "plugin", "list", "--name-only=false")
			cmd.Env = append(os.Environ(), env...)
			out2, _ := cmd.Output()
			list := string(out2)
			if first := firstLine(list, "kubectl-svctrace"); first != filepath.Join(root, "bin", "kubectl-svctrace") {
				t.Errorf("kubectl plugin list finds %q first, not krew's link:\n%s", first, list)
			}
		})
	}
}

// sameSecond: the binary's RFC 3339 build time and goreleaser's (with
// fractions) name the same second.
func sameSecond(a, b string) bool {
	ta, errA := time.Parse(time.RFC3339, a)
	tb, errB := time.Parse(time.RFC3339, b)
	return errA == nil && errB == nil && ta.Truncate(time.Second).Equal(tb.Truncate(time.Second))
}

func firstLine(list, base string) string {
	for _, l := range strings.Split(list, "\n") {
		if l = strings.TrimSpace(l); filepath.Base(l) == base {
			return l
		}
	}
	return ""
}

// run runs name with env added and fails t unless it exits 0.
func run(t *testing.T, env []string, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s%s", name, strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String()
}
