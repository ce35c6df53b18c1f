package e2e

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/yaml"
)

// TestDeployManifests applies every manifest the release ships in deploy/
// to the real API server with --dry-run=server: admission, defaulting and
// strict field validation run, nothing is stored. Each object must be
// accepted, and none may be left behind.
func TestDeployManifests(t *testing.T) {
	s, c := require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	files, err := filepath.Glob("../deploy/*.yaml")
	if err != nil || len(files) < 3 {
		t.Fatalf("deploy/*.yaml: %d files (%v); want the reader and node-reader roles and the serve DaemonSet", len(files), err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			objects := countObjects(t, f)
			stored := func() string {
				return s.runKubectl(ctx, t, c.Kubeconfig, "get", "-f", f, "--ignore-not-found", "-o", "name")
			}
			before := stored()
			out := s.runKubectl(ctx, t, c.Kubeconfig, "apply", "--dry-run=server", "--validate=strict", "-f", f)
			if accepted := strings.Count(out, "(server dry run)"); accepted != objects {
				t.Errorf("%s holds %d objects, the API server accepted %d:\n%s", f, objects, accepted, out)
			}
			// A dry run stores nothing.
			if after := stored(); after != before {
				t.Errorf("the dry run of %s changed what the cluster holds from %q to %q", f, before, after)
			}
		})
	}
}

// runKubectl runs the real kubectl with kubeconfig and fails t on an error.
func (s *suite) runKubectl(ctx context.Context, t *testing.T, kubeconfig string, args ...string) string {
	t.Helper()
	cmd := exec.CommandContext(ctx, s.kubectl, args...)
	cmd.Env = childEnv(os.Environ(), "KUBECONFIG="+kubeconfig)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("kubectl %s: %v\n%s%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

// countObjects counts the objects (documents with a kind) in f.
func countObjects(t *testing.T, f string) int {
	t.Helper()
	data, err := os.ReadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	n := 0
	for {
		var obj struct {
			Kind string `json:"kind"`
		}
		err := dec.Decode(&obj)
		if errors.Is(err, io.EOF) {
			return n
		}
		if err != nil {
			t.Fatalf("decode %s: %v", f, err)
		}
		if obj.Kind != "" {
			n++
		}
	}
}
