package source

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/svctrace/kubectl-svctrace/trace"
)

func TestBoundedAcceptsTheBoundAndRefusesMore(t *testing.T) {
	for _, tt := range []struct {
		size    int
		refused bool
	}{{0, false}, {1000, false}, {1024, false}, {1025, true}, {10 << 20, true}} {
		b, err := io.ReadAll(Bounded(strings.NewReader(strings.Repeat("x", tt.size)), "--nft n.json", 1024, "--max-dump-size"))
		if IsTooLarge(err) != tt.refused || (!tt.refused && len(b) != tt.size) {
			t.Errorf("%d bytes under a 1Ki bound: read %d, err %v; want refused=%v", tt.size, len(b), err, tt.refused)
		}
	}
}

func TestLoadDumpsRefusesADumpOverTheBound(t *testing.T) {
	path := filepath.Join(t.TempDir(), "node-1.save")
	if err := os.WriteFile(path, []byte(strings.Repeat("# comment line\n", 200)), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		paths DumpPaths
		stdin io.Reader
		input string
	}{
		{DumpPaths{IPTablesSave: path, MaxBytes: 1024}, nil, "--iptables-save " + path},
		{DumpPaths{Conntrack: "-", MaxBytes: 1024}, strings.NewReader(strings.Repeat("x", 4096)), "--conntrack -"},
	} {
		err := LoadDumps(tt.paths, tt.stdin, &trace.DataplaneInput{})
		want := tt.input + " is larger than 1Ki, the bound on untrusted input; if it really is that big, raise it with --max-dump-size=4Ki"
		if err == nil || err.Error() != want {
			t.Errorf("err %v, want %q", err, want)
		}
	}
}
