package ipvs

import (
	"context"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	model "github.com/svctrace/kubectl-svctrace/dataplane/ipvs"
	"github.com/svctrace/kubectl-svctrace/kernel/ipset"
	kipvs "github.com/svctrace/kubectl-svctrace/kernel/ipvs"
)

func TestFullSyncRepairsByKind(t *testing.T) {
	n := newNode(t, Replace)
	objs := world()
	n.sync(t, objs, true)
	ctx := t.Context()
	web := model.VirtualServer{Address: netip.MustParseAddr("10.96.0.10"), Port: 80, Protocol: model.TCP}
	sticky := model.VirtualServer{Address: netip.MustParseAddr("10.96.0.11"), Port: 80, Protocol: model.TCP, Scheduler: "wrr"}
	edits := []error{
		n.ipvs.DeleteRealServer(ctx, web, model.RealServer{Address: netip.MustParseAddr("10.244.1.2"), Port: 8080}),
		n.ipvs.DeleteVirtualServer(ctx, model.VirtualServer{Address: nodeIP, Port: 30080, Protocol: model.TCP}),
		n.ipvs.UpdateVirtualServer(ctx, sticky),
		n.ipvs.AddRealServer(ctx, web, model.RealServer{Address: netip.MustParseAddr("10.244.9.9"), Port: 8080, Weight: 1, Forward: model.Masquerade}),
		n.ipvs.DeleteAddress(ctx, netip.MustParseAddr("10.96.0.12")),
		n.ipvs.AddVirtualServer(ctx, model.VirtualServer{Address: netip.MustParseAddr("10.96.0.10"), Port: 8443, Protocol: model.TCP, Scheduler: "rr"}),
		n.sets.DelEntry(ctx, "KUBE-CLUSTER-IP", "10.96.0.10,tcp:80"),
		n.sets.AddEntry(ctx, "KUBE-NODE-PORT-TCP", "31000"),
		n.ipt.Restore(ctx, []byte("*nat\n:KUBE-MARK-MASQ - [0:0]\nCOMMIT\n")),
		n.ipt.DeleteRule(ctx, "filter", "INPUT", jumps[7].args(Replace)...),
	}
	for i, err := range edits {
		if err != nil {
			t.Fatalf("edit %d: %v", i, err)
		}
	}
	rep := n.sync(t, objs, true)
	// The deleted NodePort virtual server took its two real servers with it.
	want := map[string]int{
		RepairRealServerMissing: 3, RepairVirtualServerMissing: 1, RepairVirtualServerDiffers: 1, RepairRealServerStale: 1,
		RepairAddressMissing: 1, RepairVirtualServerStale: 1, RepairSetEntryMissing: 1, RepairSetEntryStale: 1,
		RepairRulesDiffer: 1, RepairJumpMissing: 1,
	}
	if diff := cmp.Diff(want, rep.Repairs); diff != "" {
		t.Errorf("repairs (-want +got):\n%s\nchanges:\n%s", diff, rep.Changes)
	}
	inSync(t, n, objs)
	// The stray TCP real server was drained to weight 0 and, holding no
	// connections, goes at the next full sync.
	if again := n.sync(t, objs, true); again.Changes != "ipvsadm -d -t 10.96.0.10:80 -r 10.244.9.9:8080\n" || len(again.Repairs) != 0 {
		t.Errorf("full sync after the repair: changes %q repairs %v, want the drained server deleted", again.Changes, again.Repairs)
	}
	if again := n.sync(t, objs, true); again.Changes != "" || len(again.Repairs) != 0 {
		t.Errorf("third full sync: changes %q repairs %v, want none", again.Changes, again.Repairs)
	}
}

func TestCleanupRemovesOnlyWhatItOwns(t *testing.T) {
	n := newNode(t, Replace)
	ctx := t.Context()
	foreignSet := ipset.Set{Name: "FOREIGN", Type: ipset.HashIP}
	if err := n.sets.CreateSet(ctx, foreignSet); err != nil {
		t.Fatal(err)
	}
	if err := n.ipt.Restore(ctx, []byte("*nat\n:CANARY - [0:0]\n-A CANARY -j RETURN\n-A PREROUTING -j CANARY\nCOMMIT\n")); err != nil {
		t.Fatal(err)
	}
	before := dump(n)
	n.sync(t, world(), true)
	if dump(n) == before {
		t.Fatal("sync changed nothing")
	}
	dry, err := n.mode.Cleanup(ctx, true)
	if err != nil || !strings.Contains(dry.Changes, "ipvsadm -D -t 10.96.0.10:80\n") || dump(n) == before {
		t.Fatalf("cleanup --dry-run: err %v, changes\n%s\n(it must list and not apply)", err, dry.Changes)
	}
	if _, err := n.mode.Cleanup(ctx, false); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(before, dump(n)); diff != "" {
		t.Errorf("after cleanup the node differs from before the first sync (-before +after):\n%s", diff)
	}
	if n.ipvs.HasInterface() {
		t.Error("kube-ipvs0 is still there")
	}
}

// dump is the whole fake node: IPVS table and addresses, ip sets, nat
// and filter tables.
func dump(n *node) string {
	return n.ipvs.Dump() + n.sets.Dump() + n.ipt.Dump()
}

func TestDryRunPrintsOperationsAndWritesNothing(t *testing.T) {
	n := newNode(t, Replace)
	before := dump(n)
	rep, err := n.mode.Sync(t.Context(), world(), true, true)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{
		"ipset create KUBE-CLUSTER-IP hash:ip,port", "ipvsadm -A -t 10.96.0.11:80 -s rr -p 600",
		"ipvsadm -a -t 10.96.0.10:80 -r 10.244.1.2:8080 -m -w 1", "ip addr add 10.96.0.10/32 dev kube-ipvs0",
		"iptables-restore --noflush <<EOF", ":KUBE-SERVICES - [0:0]",
	} {
		if !strings.Contains(rep.Changes, line+"\n") {
			t.Errorf("dry run lacks %q:\n%s", line, rep.Changes)
		}
	}
	if dump(n) != before {
		t.Errorf("dry run wrote to the kernel:\n%s", dump(n))
	}
}

func TestScopedLayoutTouchesNoKubeProxyName(t *testing.T) {
	n := newNode(t, Scoped)
	n.sync(t, world(), true)
	all := dump(n)
	if strings.Contains(all, "KUBE-") || strings.Contains(all, "kube-ipvs0") {
		t.Errorf("scoped mode wrote kube-proxy names:\n%s", all)
	}
	for _, want := range []string{"create SVCI-CLUSTER-IP hash:ip,port", "dev svctrace-ipvs0", ":SVCI-SERVICES", "-j SVCI-MARK-MASQ"} {
		if !strings.Contains(all, want) {
			t.Errorf("scoped mode lacks %q:\n%s", want, all)
		}
	}
}

func TestAFailedWriteMakesTheNextSyncFull(t *testing.T) {
	n := newNode(t, Replace)
	objs := world()
	n.ipt.FailRestore = func(string) error { return context.DeadlineExceeded }
	if _, err := n.mode.Sync(t.Context(), objs, true, false); err == nil {
		t.Fatal("sync with a failing iptables-restore succeeded")
	}
	n.ipt.FailRestore = nil
	if rep := n.sync(t, objs, false); !rep.Full {
		t.Errorf("sync after a failure was partial: %s", rep.Summary)
	}
	inSync(t, n, objs)
}

func TestStateComparesOneServiceAsTheTraceDoes(t *testing.T) {
	n := newNode(t, Replace)
	objs := world()
	n.sync(t, objs, true)
	ctx := t.Context()
	st, err := n.mode.State(ctx, objs, "ns", "web")
	if err != nil {
		t.Fatal(err)
	}
	s := st.(ServiceState)
	if len(s.VirtualServers) != 2 || s.Drift {
		t.Fatalf("state of ns/web in sync = %+v, want its ClusterIP and NodePort virtual servers without drift", s)
	}
	web := model.VirtualServer{Address: netip.MustParseAddr("10.96.0.10"), Port: 80, Protocol: model.TCP}
	if err := n.ipvs.DeleteRealServer(ctx, web, model.RealServer{Address: netip.MustParseAddr("10.244.1.2"), Port: 8080}); err != nil {
		t.Fatal(err)
	}
	st, _ = n.mode.State(ctx, objs, "ns", "web")
	if s := st.(ServiceState); !s.Drift || s.VirtualServers[0].Equal {
		t.Errorf("state after deleting a real server = %+v, want drift on 10.96.0.10:80/TCP", s)
	}
}

// TestExcludedAddressesAreLeftAlone: a virtual server another program
// keeps on an address bound to kube-ipvs0 looks like a stale one of
// kube-proxy's and goes at the next full sync, unless its address is in
// --ipvs-exclude-cidrs: then syncs and --cleanup leave it and its address
// where they are.
func TestExcludedAddressesAreLeftAlone(t *testing.T) {
	foreign := model.VirtualServer{Address: netip.MustParseAddr("10.100.0.5"), Port: 443, Protocol: model.TCP, Scheduler: "rr"}
	for _, exclude := range []bool{false, true} {
		n := newNode(t, Replace)
		ctx := t.Context()
		s := Settings{NodeName: "node-a", ClusterCIDR: netip.MustParsePrefix("10.244.0.0/16")}
		if exclude {
			s.ExcludeCIDRs = []netip.Prefix{netip.MustParsePrefix("10.100.0.0/16")}
		}
		local := func(context.Context) ([]netip.Addr, error) { return []netip.Addr{nodeIP}, nil }
		n.mode = NewMode(n.ipvs, n.sets, n.ipt, Replace, s, local)
		if err := n.ipvs.AddVirtualServer(ctx, foreign); err != nil {
			t.Fatal(err)
		}
		if err := n.ipvs.AddAddress(ctx, foreign.Address); err != nil {
			t.Fatal(err)
		}
		n.sync(t, world(), true)
		got, _ := kipvs.ReadTable(ctx, n.ipvs)
		bound, _ := n.ipvs.ListAddresses(ctx)
		_, kept := got.Find(foreign)
		if kept != exclude || slices.Contains(bound, foreign.Address) != exclude {
			t.Errorf("exclude %v: after a full sync the foreign virtual server is there: %v, its address bound: %v; want %v", exclude, kept, slices.Contains(bound, foreign.Address), exclude)
		}
		if !exclude {
			continue
		}
		if _, err := n.mode.Cleanup(ctx, false); err != nil {
			t.Fatal(err)
		}
		got, _ = kipvs.ReadTable(ctx, n.ipvs)
		bound, _ = n.ipvs.ListAddresses(ctx)
		if _, ok := got.Find(foreign); !ok || len(got.VirtualServers) != 2 || !slices.Equal(bound, []netip.Addr{foreign.Address}) {
			t.Errorf("after cleanup: table %+v, bound %v; want only the canary and the excluded virtual server, and its address", got.VirtualServers, bound)
		}
	}
}
