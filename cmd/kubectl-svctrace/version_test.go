package main

import (
	"encoding/json"
	"runtime"
	"strings"
	"testing"
)

// setBuild stands in for the release build's -ldflags -X values.
func setBuild(t *testing.T, v, c, d string) {
	t.Helper()
	old := [3]string{version, commit, date}
	version, commit, date = v, c, d
	t.Cleanup(func() { version, commit, date = old[0], old[1], old[2] })
}

func TestVersionText(t *testing.T) {
	setBuild(t, "v1.2.3", "0123456789ab", "2026-12-04T10:00:00Z")
	for _, args := range [][]string{{"version"}, {"--version"}} {
		r := runWith(t, nil, false, nil, args...)
		want := "kubectl-svctrace v1.2.3 (commit 0123456789ab, built 2026-12-04T10:00:00Z, " +
			runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH + ")\n"
		if r.code != ExitOK || r.out != want {
			t.Errorf("%v: exit %d, stdout %q, want %q (stderr %q)", args, r.code, r.out, want, r.errOut)
		}
	}
}

func TestVersionJSON(t *testing.T) {
	setBuild(t, "v1.2.3", "0123456789ab", "2026-12-04T10:00:00Z")
	r := runWith(t, nil, false, nil, "version", "-o", "json")
	if r.code != ExitOK {
		t.Fatalf("exit %d: %s", r.code, r.errOut)
	}
	var got buildInfo
	dec := json.NewDecoder(strings.NewReader(r.out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&got); err != nil {
		t.Fatalf("decode %q: %v", r.out, err)
	}
	want := buildInfo{Version: "v1.2.3", Commit: "0123456789ab", Date: "2026-12-04T10:00:00Z",
		GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if got != want {
		t.Errorf("version -o json = %+v, want %+v", got, want)
	}
}

// A build without ldflags (go run, go install from a clone) says what it
// does not know instead of printing empty fields.
func TestVersionUnknown(t *testing.T) {
	setBuild(t, "dev", "", "")
	r := runWith(t, nil, false, nil, "version")
	if !strings.HasPrefix(r.out, "kubectl-svctrace ") || strings.Contains(r.out, "commit ,") || strings.Contains(r.out, "built ,") {
		t.Errorf("version without ldflags printed %q", r.out)
	}
}

func TestVersionBadInput(t *testing.T) {
	for _, tc := range []struct {
		args []string
		err  string
	}{
		{[]string{"version", "-o", "yaml"}, `version: unknown --output "yaml"; use json or leave it out`},
		{[]string{"version", "extra"}, `unknown command "extra"`},
	} {
		r := runWith(t, nil, false, nil, tc.args...)
		if r.code != ExitUsage || !strings.Contains(r.errOut, tc.err) || r.out != "" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit %d and %q", tc.args, r.code, r.out, r.errOut, ExitUsage, tc.err)
		}
	}
}
