package main

import (
	"strings"
	"testing"

	"github.com/svctrace/kubectl-svctrace/snapshot"
)

func TestSnapshotFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--snapshot"}, "use kubectl-svctrace --serve --snapshot"},
		{[]string{"--serve", "--snapshot", "--snapshot-addresses", "10.96.0.1"}, "give --snapshot-service"},
		{[]string{"--serve", "--snapshot", "--snapshot-service", "web"}, `bad Service "web"`},
		{[]string{"--serve", "--snapshot", "--snapshot-service", "a/web", "--snapshot-node-ports", "99999"}, `bad node port "99999"`},
	} {
		r := runWith(t, nil, false, nil, tc.args...)
		if r.code != ExitUsage || !strings.Contains(r.errOut, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and %q", tc.args, r.code, r.errOut, tc.want)
		}
	}
}

// TestSnapshotRuns takes a real snapshot of this machine (read-only: it
// lists rules and asks kube-proxy's loopback ports) and reads it back.
func TestSnapshotRuns(t *testing.T) {
	r := runWith(t, nil, false, nil, "--serve", "--snapshot", "--host-root", t.TempDir()+"/none", "--node-name", "node-x",
		"--snapshot-service", "default/web", "--snapshot-addresses", "10.96.0.10")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.errOut)
	}
	s, err := snapshot.Decode(strings.NewReader(r.out))
	if err != nil {
		t.Fatal(err)
	}
	if s.Node != "node-x" || s.HostRoot != "" || s.Filter == nil || s.Filter.Service != "default/web" {
		t.Errorf("snapshot header: node %q host root %q filter %+v", s.Node, s.HostRoot, s.Filter)
	}
	if _, ok := s.Section(snapshot.ProxyMode); !ok {
		t.Error("no kube-proxy mode section")
	}
}
