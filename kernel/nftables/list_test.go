package nftables

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
)

type fakeRunner struct {
	out  []byte
	err  error
	argv []string
}

func (f *fakeRunner) Run(_ context.Context, name string, args ...string) ([]byte, error) {
	f.argv = append([]string{name}, args...)
	return f.out, f.err
}

func TestListRuleset(t *testing.T) {
	data, err := os.ReadFile("../../dataplane/nftables/testdata/v137.json")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, netns, wantArgv, wantErr string
		out                            []byte
		runErr                         error
	}{
		{name: "host", out: data, wantArgv: "nft -j list ruleset"},
		{name: "netns", netns: "ns-a", out: data, wantArgv: "ip netns exec ns-a nft -j list ruleset"},
		{name: "nft fails", runErr: errors.New("exit status 1"), wantArgv: "nft -j list ruleset", wantErr: "needs root"},
		{name: "garbage", out: []byte("oops"), wantArgv: "nft -j list ruleset", wantErr: "parsing nft output"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeRunner{out: tt.out, err: tt.runErr}
			rs, err := ListRuleset(context.Background(), f, tt.netns)
			if got := strings.Join(f.argv, " "); got != tt.wantArgv {
				t.Errorf("ran %q, want %q", got, tt.wantArgv)
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || rs.KubeProxy("ip") == nil {
				t.Fatalf("err %v, table %v", err, rs)
			}
		})
	}
}

// TestListTable: the table asked for, nil when nft says it does not
// exist, and an error naming the table otherwise.
func TestListTable(t *testing.T) {
	data, err := os.ReadFile("../../dataplane/nftables/testdata/v137.json")
	if err != nil {
		t.Fatal(err)
	}
	missing := errors.New("exit status 1: Error: No such file or directory; did you mean table 'kube-proxy' in family ip?")
	for _, tc := range []struct {
		name    string
		out     []byte
		runErr  error
		found   bool
		wantErr string
	}{
		{name: "listed", out: data, found: true},
		{name: "absent", runErr: missing},
		{name: "nft fails", runErr: errors.New("exit status 1: Operation not permitted"), wantErr: "table ip kube-proxy"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeRunner{out: tc.out, err: tc.runErr}
			tbl, err := ListTable(context.Background(), f, "ip", "kube-proxy")
			if got := strings.Join(f.argv, " "); got != "nft -j list table ip kube-proxy" {
				t.Errorf("ran %q", got)
			}
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one naming %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || (tbl != nil) != tc.found {
				t.Fatalf("table %v, err %v; want found %v", tbl != nil, err, tc.found)
			}
		})
	}
}
