package nftables

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/knftables"

	"github.com/svctrace/kubectl-svctrace/dataplane"
	"github.com/svctrace/kubectl-svctrace/dataplane/dataplanetest"
	model "github.com/svctrace/kubectl-svctrace/dataplane/nftables"
	"github.com/svctrace/kubectl-svctrace/internal/netnstest"
)

// want is the expectation for dataplanetest's Service, and the table a
// node in sync with it holds.
func want(t *testing.T, objs dataplane.Objects) (*model.Want, *model.Table) {
	t.Helper()
	w, err := model.Proxier{}.Expect(dataplanetest.Node, objs)
	if err != nil {
		t.Fatal(err)
	}
	rs, err := model.Proxier{}.Materialize(w)
	if err != nil {
		t.Fatal(err)
	}
	return w, rs.KubeProxy(w.Family)
}

// TestSyncIntoFake: knftables accepts the objects as a transaction, the
// table then holds what Materialize says, and a second Sync without the
// Service leaves none of its rules or elements.
func TestSyncIntoFake(t *testing.T) {
	ctx := context.Background()
	w, table := want(t, dataplanetest.Web())
	fake := knftables.NewFake(knftables.IPv4Family, model.KubeProxyTable)
	if err := Sync(ctx, fake, w.Objects()); err != nil {
		t.Fatal(err)
	}
	got, err := model.RulesetOf(knftables.IPv4Family, dataplanetest.KnftablesObjects(fake.Table))
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(table.Dump(), got.KubeProxy(knftables.IPv4Family).Dump()); d != "" {
		t.Errorf("fake's table after Sync (-materialized +fake):\n%s", d)
	}
	empty, _ := want(t, dataplane.Objects{})
	if err := Sync(ctx, fake, empty.Objects()); err != nil {
		t.Fatal(err)
	}
	if m := fake.Table.Maps[model.MapServiceIPs]; len(m.Elements) != 0 {
		t.Errorf("service-ips after a Sync without the Service: %v", m.Elements)
	}
}

// TestSyncRealNFT programs a fresh network namespace through knftables and
// the real nft, and reads back the table Materialize describes.
func TestSyncRealNFT(t *testing.T) {
	netnstest.Require(t, "ip", "nft")
	ns := netnstest.New(t, "nft")
	ctx := context.Background()
	w, table := want(t, dataplanetest.Web())
	netnstest.Do(t, ns, func() {
		nft, err := knftables.New(knftables.IPv4Family, model.KubeProxyTable)
		if err != nil {
			t.Fatal(err)
		}
		if err := Sync(ctx, nft, w.Objects()); err != nil {
			t.Fatal(err)
		}
	})
	rs, err := ListRuleset(ctx, ExecRunner{}, ns)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(table.Dump(), rs.KubeProxy(knftables.IPv4Family).Dump()); d != "" {
		t.Errorf("nft's table after Sync (-materialized +nft):\n%s", d)
	}
}
