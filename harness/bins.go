package harness

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Versions of the cluster pieces; hack/build-cluster-bins.sh builds the same.
// SkewProxyVersion is the oldest kube-proxy it builds too; SkewProxyVersions
// are all of them (SKEW_KUBE_VERSIONS).
const (
	KubeVersion      = "v1.37.2"
	SkewProxyVersion = "v1.34.4"
	CoreDNSVersion   = "v1.15.0"
	modulePath       = "github.com/svctrace/kubectl-svctrace"
)

// SkewProxyVersions are the kube-proxy releases behind KubeVersion a node
// may run (up to three minors), one patch release each.
var SkewProxyVersions = []string{SkewProxyVersion, "v1.35.4", "v1.36.3"}

// Bins are the executables a cluster runs.
type Bins struct {
	Etcd              string
	APIServer         string
	ControllerManager string
	Proxy             string
	CoreDNS           string
	PodServer         string
	// Plugin is kubectl-svctrace, run for pods of PluginImage; empty
	// leaves those pods to the pod server.
	Plugin string
}

// DefaultBins finds the binaries in the cache that hack/build-cluster-bins.sh
// fills: $SVCTRACE_CACHE, else .cache in the repository around the working
// directory. It rebuilds the pod server (seconds, from the Go build cache)
// when a go toolchain is at hand, so it never runs stale.
func DefaultBins(ctx context.Context) (Bins, error) {
	bin, err := binCache()
	if err != nil {
		return Bins{}, err
	}
	b := Bins{
		Etcd:              "/usr/bin/etcd",
		APIServer:         filepath.Join(bin, KubeVersion, "kube-apiserver"),
		ControllerManager: filepath.Join(bin, KubeVersion, "kube-controller-manager"),
		Proxy:             filepath.Join(bin, KubeVersion, "kube-proxy"),
		CoreDNS:           filepath.Join(bin, "coredns-"+CoreDNSVersion, "coredns"),
		PodServer:         filepath.Join(bin, "podserver"),
	}
	if root, err := repoRoot(); err == nil {
		if _, err := exec.LookPath("go"); err == nil {
			if err := buildGo(ctx, root, b.PodServer, "./harness/podserver"); err != nil {
				return b, err
			}
			plugin := filepath.Join(bin, "kubectl-svctrace")
			if err := buildGo(ctx, root, plugin, "./cmd/kubectl-svctrace"); err != nil {
				return b, err
			}
			b.Plugin = plugin
		}
	}
	return b, b.check()
}

// binCache is the directory of cached binaries: $SVCTRACE_CACHE/bin, else
// .cache/bin in the repository around the working directory.
func binCache() (string, error) {
	cache := os.Getenv("SVCTRACE_CACHE")
	if cache == "" {
		root, err := repoRoot()
		if err != nil {
			return "", err
		}
		cache = filepath.Join(root, ".cache")
	}
	return filepath.Join(cache, "bin"), nil
}

// ProxyAt is the cached kube-proxy of version, or an error naming how to
// build it.
func ProxyAt(version string) (string, error) {
	bin, err := binCache()
	if err != nil {
		return "", err
	}
	p := filepath.Join(bin, version, "kube-proxy")
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("missing kube-proxy %s (%s): run `SKEW_KUBE_VERSION=%s hack/build-cluster-bins.sh skew`", version, p, version)
	}
	return p, nil
}

// buildGo builds pkg into a temporary name and renames, so test processes
// of several packages building at once never run a torn file.
func buildGo(ctx context.Context, root, dst, pkg string) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return fmt.Errorf("build %s: %w", pkg, err)
	}
	tmp := fmt.Sprintf("%s.%d.tmp", dst, os.Getpid())
	if _, err := run(ctx, "go", "-C", root, "build", "-o", tmp, pkg); err != nil {
		return fmt.Errorf("build %s: %w", pkg, err)
	}
	if err := os.Rename(tmp, dst); err != nil {
		return fmt.Errorf("build %s: %w", pkg, err)
	}
	return nil
}

// check names every missing binary and how to get it.
func (b Bins) check() error {
	var errs []error
	for _, p := range []string{b.Etcd, b.APIServer, b.ControllerManager, b.Proxy, b.CoreDNS, b.PodServer} {
		if _, err := os.Stat(p); err != nil {
			errs = append(errs, fmt.Errorf("missing %s", p))
		}
	}
	for _, tool := range []string{"ip", "iptables-save", "nft"} {
		if _, err := exec.LookPath(tool); err != nil {
			errs = append(errs, fmt.Errorf("missing command %s", tool))
		}
	}
	if len(errs) > 0 {
		errs = append(errs, errors.New("run `make cluster-bins` (hack/build-cluster-bins.sh) to build or install them"))
	}
	return errors.Join(errs...)
}

// repoRoot walks up from the working directory to the go.mod of this module.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find repository root: %w", err)
	}
	for {
		if isModuleRoot(filepath.Join(dir, "go.mod")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("find repository root: no go.mod for %s above the working directory; set SVCTRACE_CACHE", modulePath)
		}
		dir = parent
	}
}

func isModuleRoot(goMod string) bool {
	f, err := os.Open(goMod)
	if err != nil {
		return false
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if line := strings.TrimSpace(s.Text()); strings.HasPrefix(line, "module ") {
			return strings.TrimSpace(strings.TrimPrefix(line, "module ")) == modulePath
		}
	}
	return false
}

// PluginBinary is the kubectl-svctrace the cluster runs for plugin-image
// pods; empty when no go toolchain built it.
func (c *Cluster) PluginBinary() string { return c.bins.Plugin }
