package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/cli-runtime/pkg/genericiooptions"
)

// TestInputsOverTheirBoundAreRefused checks each untrusted input gets one
// line naming it, the bound and the flag, and exit code 1.
func TestInputsOverTheirBoundAreRefused(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.yaml")
	if err := os.WriteFile(big, bytes.Repeat([]byte("# padding\n"), 300), 0o644); err != nil {
		t.Fatal(err)
	}
	bundle := filepath.Join(dir, "bundle")
	if err := os.Mkdir(bundle, 0o755); err != nil {
		t.Fatal(err)
	}
	inBundle := filepath.Join(bundle, "objects.json")
	if err := os.WriteFile(inBundle, bytes.Repeat([]byte(" "), 3000), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args  []string
		stdin string
		want  string
	}{
		{[]string{"-f", big, "--max-file-size", "1Ki"}, "", "-f " + big + " is larger than 1Ki"},
		{[]string{"-f", bundle, "--max-file-size", "2Ki"}, "", "-f " + inBundle + " is larger than 2Ki"},
		{[]string{"-f", "-", "--max-file-size", "1Ki"}, strings.Repeat("# x\n", 1000), "-f - is larger than 1Ki"},
		{[]string{"--demo", "--iptables-save", big, "--max-dump-size", "1Ki"}, "", "--iptables-save " + big + " is larger than 1Ki"},
		{[]string{"--demo", "--nft", "-", "--max-dump-size", "1Ki"}, strings.Repeat("{}\n", 1000), "--nft - is larger than 1Ki"},
	}
	for _, tt := range tests {
		var out, errOut bytes.Buffer
		streams := genericiooptions.IOStreams{In: strings.NewReader(tt.stdin), Out: &out, ErrOut: &errOut}
		code := run(context.Background(), append(tt.args, "hostnames"), streams)
		if code != ExitFailed || !strings.HasPrefix(errOut.String(), "error: "+tt.want) ||
			!strings.Contains(errOut.String(), "raise it with --max-") || strings.Count(errOut.String(), "\n") != 1 {
			t.Errorf("%v: exit %d, stderr %q; want exit 1 and one line starting %q", tt.args, code, errOut.String(), tt.want)
		}
	}
}

func TestBadSizeIsAUsageError(t *testing.T) {
	r := runWith(t, nil, false, nil, "--demo", "--max-dump-size", "lots")
	if r.code != ExitUsage || !strings.Contains(r.errOut, `bad --max-dump-size "lots"`) {
		t.Errorf("exit %d, stderr %q", r.code, r.errOut)
	}
}

// TestDumpWithKubectlBannerIsRead is the README's recipe without -q: the
// dump starts with kubectl debug's line, and is read with a note.
func TestDumpWithKubectlBannerIsRead(t *testing.T) {
	dump, err := os.ReadFile(filepath.Join("..", "..", "demo", "node-1.iptables-save"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "node-1.save")
	banner := "Creating debugging pod node-debugger-node-1-x7k2p with container debugger on node node-1.\n"
	if err := os.WriteFile(path, append([]byte(banner), dump...), 0o644); err != nil {
		t.Fatal(err)
	}
	r := runWith(t, nil, false, nil, "--demo", "--iptables-save", path, "--node", "node-1")
	if r.code != ExitOK || !strings.Contains(r.out, "DumpExtraLines") || !strings.Contains(r.out, "KUBE-SEP-") {
		t.Errorf("exit %d, stderr %q, want exit 0, the walk and a DumpExtraLines note:\n%s", r.code, r.errOut, r.out)
	}
}
