package conntracktest

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	model "github.com/svctrace/kubectl-svctrace/dataplane/conntrack"
	"github.com/svctrace/kubectl-svctrace/kernel/conntrack"
)

// TestFakeDeleteAndDump: a filter removes exactly the entries it matches,
// and Dump lists the rest as conntrack -L does.
func TestFakeDeleteAndDump(t *testing.T) {
	stale, err := model.Parse([]byte(`udp      17 118 src=10.244.0.5 dst=10.96.0.10 sport=41234 dport=53 src=10.244.1.7 dst=10.244.0.5 sport=53 dport=41234 [ASSURED] mark=0 use=1
udp      17 29 src=10.244.0.6 dst=10.96.0.10 sport=5353 dport=53 src=10.244.2.9 dst=10.244.0.6 sport=53 dport=5353 mark=0 use=1
tcp      6 299 ESTABLISHED src=10.244.0.6 dst=10.96.0.10 sport=5353 dport=53 src=10.244.1.7 dst=10.244.0.6 sport=53 dport=5353 [ASSURED] mark=0 use=1
`))
	if err != nil {
		t.Fatal(err)
	}
	f := NewFake(stale...)
	ctx := context.Background()
	gone := stale[0].Reply.Src
	n, err := f.Delete(ctx, conntrack.Filter{Protocol: "udp", Dest: stale[0].Original.Dst, DestPort: 53, ReplySource: gone})
	if err != nil || n != 1 {
		t.Fatalf("Delete removed %d (%v), want 1", n, err)
	}
	if d := cmp.Diff(model.Format(stale[1:]), f.Dump()); d != "" {
		t.Errorf("dump after delete (-want +got):\n%s", d)
	}
	if n, _ := f.Delete(ctx, conntrack.Filter{Protocol: "sctp"}); n != 0 {
		t.Errorf("an sctp filter removed %d entries", n)
	}
}
