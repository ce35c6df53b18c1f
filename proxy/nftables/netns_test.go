package nftables

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/knftables"

	model "github.com/svctrace/kubectl-svctrace/dataplane/nftables"
	"github.com/svctrace/kubectl-svctrace/internal/netnstest"
	knft "github.com/svctrace/kubectl-svctrace/kernel/nftables"
	"github.com/svctrace/kubectl-svctrace/proxy"
)

// TestRealNFT drives the mode against the real nft in a network namespace
// of its own: partial syncs (endpoints changed, a Service removed) leave
// the table as the layout materializes it; a transaction nft refuses
// half-way applies none of its operations (nft transactions are atomic),
// and the next sync is full and brings the table in sync.
func TestRealNFT(t *testing.T) {
	netnstest.Require(t, "ip", "nft")
	ns := netnstest.New(t, "nftprog")
	netnstest.Do(t, ns, func() {
		ctx := t.Context()
		nft, err := knftables.New(knftables.IPv4Family, Scoped.TableName())
		if err != nil {
			t.Fatal(err)
		}
		// While b refuses, every transaction ends with an operation nft
		// refuses (a rule in a chain that does not exist), after all the
		// valid ones.
		b := &refusing{Interface: nft}
		read := func(ctx context.Context) (*model.Table, error) {
			return knft.ListTable(ctx, knft.ExecRunner{}, "ip", Scoped.TableName())
		}
		m := NewMode(Scoped, testNode, []Kernel{{Family: knftables.IPv4Family, NFT: b, Read: read}})
		inSync := func(what string, objs proxy.Objects) string {
			t.Helper()
			w, err := m.Want(objs, knftables.IPv4Family)
			if err != nil {
				t.Fatal(err)
			}
			rs, err := Scoped.Materialize(w)
			if err != nil {
				t.Fatal(err)
			}
			got, err := read(ctx)
			if err != nil || got == nil {
				t.Fatalf("%s: list the table: %v", what, err)
			}
			if d := cmp.Diff(rs.Tables[0].Dump(), got.Dump()); d != "" {
				t.Errorf("%s: table (-materialized +nft):\n%s", what, d)
			}
			return got.Dump()
		}
		sync := func(what string, objs proxy.Objects, full bool) proxy.Report {
			t.Helper()
			rep, err := m.Sync(ctx, objs, full, false)
			if err != nil {
				t.Fatalf("%s: %v\n%s", what, err, rep.Changes)
			}
			return rep
		}
		w := threeServices()
		sync("first sync", w.objs, false)
		inSync("first sync", w.objs)

		w.setEndpoints("web", "10.244.1.1", "10.244.3.7")
		if rep := sync("endpoint change", w.objs, false); rep.Full || len(mentions(rep.Changes, "ns/api/", "ns/empty/")) > 0 {
			t.Errorf("endpoint change of web: full %v, transaction:\n%s", rep.Full, rep.Changes)
		}
		inSync("endpoint change", w.objs)
		w.objs.Services, w.objs.Slices = w.objs.Services[1:], w.objs.Slices[1:]
		sync("web removed", w.objs, false)
		before := inSync("web removed", w.objs)

		w.setEndpoints("api", "10.244.1.4", "10.244.1.8")
		b.refuse = func(tx *knftables.Transaction) bool {
			tx.Add(&knftables.Rule{Chain: "no-such-chain", Rule: "drop"})
			return false
		}
		rep, err := m.Sync(ctx, w.objs, false, false)
		if err == nil || !strings.Contains(rep.Changes, "ns/api/") {
			t.Fatalf("a transaction with a refused operation: error %v, transaction:\n%s", err, rep.Changes)
		}
		got, err := read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(before, got.Dump()); d != "" {
			t.Errorf("a refused transaction changed the table (-before +after):\n%s", d)
		}
		b.refuse = nil
		// The table was left as it was: the full sync finds api's chain as
		// it was before the change, and only that.
		if rep := sync("after the failure", w.objs, false); !rep.Full || !equalCounts(rep.Repairs, map[string]int{RepairRulesDiffer: 1}) {
			t.Errorf("the sync after a failure: full %v, repairs %v; want full, rules_differ=1 (api's chain)", rep.Full, rep.Repairs)
		}
		inSync("after the failure", w.objs)
	})
}
