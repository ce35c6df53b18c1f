package source

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"

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

// TestLoadBoundsEachInputAndWhatItInflatesTo checks -f inputs are bounded
// as they are read, whatever their size says: stdin, and a small gzip file
// that inflates past the bound (a bomb); under the bound both load.
func TestLoadBoundsEachInputAndWhatItInflatesTo(t *testing.T) {
	svc := "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: default}\nspec: {ports: [{port: 80}]}\n"
	padded := svc + strings.Repeat("# padding\n", 2000) // 20 KB
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write([]byte(padded))
	_ = zw.Close()
	bomb := filepath.Join(t.TempDir(), "bundle.yaml.gz")
	if err := os.WriteFile(bomb, gz.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if gz.Len() >= 4<<10 {
		t.Fatalf("the compressed file is %d bytes; the case needs it under the 4Ki bound", gz.Len())
	}
	want := Want{Namespace: "default", Service: "web"}
	for _, tt := range []struct {
		name     string
		paths    []string
		stdin    string
		max      int64
		refusing string // "" when it loads
	}{
		{"stdin over", []string{"-"}, padded, 4 << 10, "-f - is larger than 4Ki"},
		{"stdin under", []string{"-"}, padded, 64 << 10, ""},
		{"gzip inflating over", []string{bomb}, "", 4 << 10, "-f " + bomb + " (decompressed) is larger than 4Ki"},
		{"gzip inflating under", []string{bomb}, "", 64 << 10, ""},
	} {
		w := want
		w.MaxBytes = tt.max
		store, err := Load(context.Background(), tt.paths, strings.NewReader(tt.stdin), "default", w)
		var tooLarge *TooLargeError
		switch {
		case tt.refusing == "" && (err != nil || store == nil):
			t.Errorf("%s: %v; want it loaded", tt.name, err)
		case tt.refusing != "" && (!errors.As(err, &tooLarge) || !strings.HasPrefix(tooLarge.Error(), tt.refusing)):
			t.Errorf("%s: error %v; want one starting %q", tt.name, err, tt.refusing)
		}
	}
}

// TestLoadPathsWithinBoundsEachFile is --serve -f's reader under
// --max-file-size.
func TestLoadPathsWithinBoundsEachFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "objects.yaml")
	svc := "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: default}\n"
	if err := os.WriteFile(path, []byte(svc+strings.Repeat("# padding\n", 500)), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadPathsWithin([]string{path}, nil, "default", 1<<10); !IsTooLarge(err) {
		t.Errorf("5 KB file under a 1Ki bound: %v; want it refused as too large", err)
	}
	if objs, err := LoadPathsWithin([]string{path}, nil, "default", 64<<10); err != nil || len(objs) != 1 {
		t.Errorf("under a 64Ki bound: %d objects, %v; want the Service", len(objs), err)
	}
}
