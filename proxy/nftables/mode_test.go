package nftables

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"sigs.k8s.io/knftables"

	model "github.com/svctrace/kubectl-svctrace/dataplane/nftables"
)

// TestFirstSync: a first sync is full, writes each family's table as the
// layout materializes it, counts no repair on a clean node, and serves
// only the layout's Services.
func TestFirstSync(t *testing.T) {
	for _, tc := range []struct {
		layout      model.Proxier
		served, not string
	}{{Scoped, "ns/web/", "ns/kube/"}, {Replace, "ns/kube/", "ns/web/"}} {
		t.Run(tc.layout.TableName(), func(t *testing.T) {
			w := threeServices()
			f := newFakes(tc.layout)
			rep := f.sync(t, w.objs, false)
			if !rep.Full || len(rep.Repairs) != 0 {
				t.Errorf("first sync: full %v, repairs %v; want full, none", rep.Full, rep.Repairs)
			}
			f.checkInSync(t, w.objs)
			dump := f.table(t, knftables.IPv4Family).Dump()
			if !strings.Contains(dump, tc.served) || strings.Contains(dump, tc.not) {
				t.Errorf("table %s serves %s: %v, %s: %v; want only the first",
					tc.layout.TableName(), tc.served, strings.Contains(dump, tc.served), tc.not, strings.Contains(dump, tc.not))
			}
			if again := f.sync(t, w.objs, true); strings.TrimSpace(again.Changes) != "" || len(again.Repairs) != 0 {
				t.Errorf("full sync of a table in sync wrote:\n%s\nrepairs %v", again.Changes, again.Repairs)
			}
		})
	}
}

// TestPartialSyncTouchesOnlyTheService: an endpoint change writes one
// transaction naming only that Service's chains and elements; no shared
// map is flushed, no other Service's objects are touched.
func TestPartialSyncTouchesOnlyTheService(t *testing.T) {
	w := threeServices()
	f := newFakes(Scoped)
	f.sync(t, w.objs, false)
	w.setEndpoints("web", "10.244.1.1", "10.244.2.3", "10.244.3.7")
	rep := f.sync(t, w.objs, false)
	if rep.Full {
		t.Fatal("an endpoint change made a full sync")
	}
	tx := f.nft[knftables.IPv4Family].LastTransaction.String()
	if len(mentions(tx, "ns/web/")) == 0 {
		t.Fatalf("the transaction does not touch web:\n%s", tx)
	}
	for _, line := range strings.Split(strings.TrimSpace(tx), "\n") {
		if !strings.Contains(line, "ns/web/") && !strings.Contains(line, "10.244.") {
			t.Errorf("an endpoint change of web wrote a line for something else: %s", line)
		}
	}
	if bad := mentions(tx, "ns/api/", "ns/empty/", "flush map", "flush set", "flush table"); len(bad) > 0 {
		t.Errorf("an endpoint change of web touched others:\n%s", strings.Join(bad, "\n"))
	}
	f.checkInSync(t, w.objs)
	if again := f.sync(t, w.objs, false); again.Changes != "" {
		t.Errorf("a sync without changes wrote:\n%s", again.Changes)
	}
}

// TestPartialSyncRemovesService: a Service that went away loses its
// chains and elements; the others stay as they are.
func TestPartialSyncRemovesService(t *testing.T) {
	w := threeServices()
	f := newFakes(Scoped)
	f.sync(t, w.objs, false)
	w.objs.Services, w.objs.Slices = w.objs.Services[1:], w.objs.Slices[1:]
	rep := f.sync(t, w.objs, false)
	if bad := mentions(rep.Changes, "ns/api/", "ns/empty/"); len(bad) > 0 {
		t.Errorf("removing web touched others:\n%s", strings.Join(bad, "\n"))
	}
	f.checkInSync(t, w.objs)
	if strings.Contains(f.table(t, knftables.IPv4Family).Dump(), "ns/web/") {
		t.Error("web's objects are still in the table")
	}
}

// TestFullSyncRepairs: what a hand deleted, flushed or added in the table
// is put right by one full sync and counted by kind; the next full sync
// finds nothing to do.
func TestFullSyncRepairs(t *testing.T) {
	w := threeServices()
	f := newFakes(Scoped)
	f.sync(t, w.objs, false)
	fake := f.nft[knftables.IPv4Family]
	api := chainOf(t, f.table(t, knftables.IPv4Family), "service-", "ns/api/")
	web := chainOf(t, f.table(t, knftables.IPv4Family), "service-", "ns/web/")
	var apiElem *knftables.Element
	for _, e := range fake.Table.Maps[model.MapServiceIPs].Elements {
		if strings.Contains(strings.Join(e.Value, " "), api) {
			apiElem = e
		}
	}
	if apiElem == nil {
		t.Fatalf("no service-ips element goes to %s", api)
	}
	run(t, fake, func(tx *knftables.Transaction) {
		tx.Delete(&knftables.Element{Map: model.MapServiceIPs, Key: apiElem.Key})
		tx.Flush(&knftables.Chain{Name: api})
		tx.Delete(&knftables.Chain{Name: api})
		tx.Flush(&knftables.Chain{Name: web})
		tx.Add(&knftables.Chain{Name: "left-by-hand"})
		tx.Add(&knftables.Element{Set: model.SetClusterIPs, Key: []string{"10.96.9.9"}})
	})
	rep := f.sync(t, w.objs, true)
	want := map[string]int{RepairChainMissing: 1, RepairElementMissing: 1, RepairRulesDiffer: 1, RepairChainStale: 1, RepairElementStale: 1}
	if !equalCounts(rep.Repairs, want) {
		t.Errorf("repairs %v, want %v", rep.Repairs, want)
	}
	f.checkInSync(t, w.objs)
	if again := f.sync(t, w.objs, true); again.Changes != "" || len(again.Repairs) != 0 {
		t.Errorf("the full sync after the repair wrote:\n%s\nrepairs %v", again.Changes, again.Repairs)
	}
}

// TestFullSyncRebuildsRedefinedSet: a set redefined by hand with another
// type cannot be changed in place; the table is rebuilt in one
// transaction.
func TestFullSyncRebuildsRedefinedSet(t *testing.T) {
	w := threeServices()
	f := newFakes(Scoped)
	f.sync(t, w.objs, false)
	fake := f.nft[knftables.IPv4Family]
	run(t, fake, func(tx *knftables.Transaction) {
		tx.Delete(&knftables.Set{Name: model.SetNodePortIPs})
		tx.Add(&knftables.Set{Name: model.SetNodePortIPs, Type: "ipv4_addr . inet_service"})
	})
	rep := f.sync(t, w.objs, true)
	if rep.Repairs[RepairDefinition] != 1 || !strings.Contains(rep.Changes, "delete table ip svctrace") {
		t.Errorf("repairs %v; transaction:\n%s\nwant a definition repair rebuilding the table", rep.Repairs, rep.Changes)
	}
	f.checkInSync(t, w.objs)
}

// TestTableDeletedByHand: a table gone since the last sync is written
// again and counted.
func TestTableDeletedByHand(t *testing.T) {
	w := threeServices()
	f := newFakes(Scoped)
	f.sync(t, w.objs, false)
	run(t, f.nft[knftables.IPv6Family], func(tx *knftables.Transaction) { tx.Delete(&knftables.Table{}) })
	rep := f.sync(t, w.objs, true)
	if !equalCounts(rep.Repairs, map[string]int{RepairTableMissing: 1}) {
		t.Errorf("repairs %v, want table_missing=1", rep.Repairs)
	}
	f.checkInSync(t, w.objs)
}

// refusing is a knftables.Interface failing the transactions refuse
// picks, with the error nft gives.
type refusing struct {
	knftables.Interface
	refuse func(tx *knftables.Transaction) bool
}

func (r *refusing) Run(ctx context.Context, tx *knftables.Transaction) error {
	if r.refuse != nil && r.refuse(tx) {
		return errors.New("nft: Error: Could not process rule: Device or resource busy")
	}
	return r.Interface.Run(ctx, tx)
}

// ipv4Only is a mode for an IPv4 Fake behind refusing.
func ipv4Only() (*fakes, *refusing) {
	fake := knftables.NewFake(knftables.IPv4Family, Scoped.TableName())
	nft := &refusing{Interface: fake}
	f := &fakes{layout: Scoped, nft: map[knftables.Family]*knftables.Fake{knftables.IPv4Family: fake}}
	f.mode = NewMode(Scoped, testNode, []Kernel{{Family: knftables.IPv4Family, NFT: nft, Read: fakeReader(fake, knftables.IPv4Family)}})
	return f, nft
}

func all(*knftables.Transaction) bool { return true }

// TestFailedSyncMakesNextFull: a transaction that fails leaves the table
// as it was, the sync reports the error, and the next sync is full and
// writes what the failed one should have.
func TestFailedSyncMakesNextFull(t *testing.T) {
	w := threeServices()
	f, nft := ipv4Only()
	f.sync(t, w.objs, false)
	before := f.table(t, knftables.IPv4Family).Dump()
	w.setEndpoints("api", "10.244.1.9")
	nft.refuse = all
	rep, err := f.mode.Sync(t.Context(), w.objs, false, false)
	if err == nil || !strings.Contains(err.Error(), "nothing was applied") {
		t.Fatalf("failed sync: error %v", err)
	}
	if strings.Join(rep.FailedFamilies, ",") != "IPv4" {
		t.Errorf("failed families %v, want IPv4 (kube-proxy's nftables sync failure label)", rep.FailedFamilies)
	}
	if after := f.table(t, knftables.IPv4Family).Dump(); after != before {
		t.Error("a failed transaction changed the table")
	}
	nft.refuse = nil
	if rep := f.sync(t, w.objs, false); !rep.Full {
		t.Error("the sync after a failure was partial")
	}
	f.checkInSync(t, w.objs)
}

// TestDryRun: a dry run prints the transaction and writes nothing; the
// next real sync is still the first.
func TestDryRun(t *testing.T) {
	w := threeServices()
	f := newFakes(Scoped)
	rep, err := f.mode.Sync(t.Context(), w.objs, false, true)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"add table ip svctrace", "add table ip6 svctrace", "ns/web/"} {
		if !strings.Contains(rep.Changes, want) {
			t.Errorf("dry run does not print %q:\n%s", want, rep.Changes)
		}
	}
	if f.nft[knftables.IPv4Family].Table != nil {
		t.Error("a dry run wrote the table")
	}
	if real := f.sync(t, w.objs, false); !real.Full {
		t.Error("the sync after a dry run was partial")
	}
}

// TestCleanup deletes the layout's table in both families, and a second
// cleanup finds nothing to do.
func TestCleanup(t *testing.T) {
	w := threeServices()
	f := newFakes(Scoped)
	f.sync(t, w.objs, false)
	rep, err := f.mode.Cleanup(t.Context(), false)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Summary != "cleanup: deleted table ip svctrace, table ip6 svctrace" {
		t.Errorf("summary %q", rep.Summary)
	}
	for fam, fake := range f.nft {
		if fake.Table != nil {
			t.Errorf("table %s svctrace after cleanup", fam)
		}
	}
	again, err := f.mode.Cleanup(t.Context(), false)
	if err != nil || again.Summary != "cleanup: no table to delete" {
		t.Errorf("second cleanup: %q, %v", again.Summary, err)
	}
	if rep := f.sync(t, w.objs, false); !rep.Full || len(rep.Repairs) != 0 {
		t.Errorf("sync after cleanup: full %v, repairs %v; want a clean full sync", rep.Full, rep.Repairs)
	}
}

func chainOf(t *testing.T, tbl *model.Table, prefix, port string) string {
	t.Helper()
	for _, c := range tbl.Chains {
		if strings.HasPrefix(c.Name, prefix) && strings.Contains(c.Name, port) {
			return c.Name
		}
	}
	t.Fatalf("no chain %s…%s", prefix, port)
	return ""
}

func equalCounts(got, want map[string]int) bool {
	if len(got) != len(want) {
		return false
	}
	for k, n := range want {
		if got[k] != n {
			return false
		}
	}
	return true
}

// TestChainsDeletedLater: the chains of a removed Service are flushed in
// the sync's transaction and deleted in a second one; when the kernel
// refuses that, the sync still succeeds, the chains stay empty, a full
// sync does not count them as repairs, and a later sync deletes them.
func TestChainsDeletedLater(t *testing.T) {
	w := threeServices()
	f, nft := ipv4Only()
	f.sync(t, w.objs, false)
	web := chainOf(t, f.table(t, knftables.IPv4Family), "service-", "ns/web/")
	w.objs.Services, w.objs.Slices = w.objs.Services[1:], w.objs.Slices[1:]
	// As a kernel before 6.2 does for a moment after the map element
	// jumping to a chain is deleted.
	nft.refuse = func(tx *knftables.Transaction) bool { return strings.Contains(tx.String(), "delete chain") }
	rep := f.sync(t, w.objs, false)
	if !strings.Contains(rep.Changes, "flush chain ip svctrace "+web) || !strings.Contains(rep.Changes, "delete chain ip svctrace "+web) {
		t.Errorf("removing web: want its chain flushed, then deleted:\n%s", rep.Changes)
	}
	if c := f.table(t, knftables.IPv4Family).Chain(web); c == nil || len(c.Rules) != 0 {
		t.Fatalf("with deletion refused, %s should stay, empty: %v", web, c)
	}
	if rep := f.sync(t, w.objs, true); len(rep.Repairs) != 0 {
		t.Errorf("full sync with a chain awaiting deletion counted repairs %v", rep.Repairs)
	}
	nft.refuse = nil
	f.sync(t, w.objs, false)
	if f.table(t, knftables.IPv4Family).Chain(web) != nil {
		t.Errorf("%s not deleted by the next sync", web)
	}
	f.checkInSync(t, w.objs)
}

// TestIPv6ServiceInIP6Table: an IPv6 Service is programmed in the ip6
// table only, as kube-proxy's IPv6 proxier writes it.
func TestIPv6ServiceInIP6Table(t *testing.T) {
	w := threeServices()
	w.add("six", "fd00:96::10", 0)
	six := w.objs.Services[len(w.objs.Services)-1]
	six.Spec.IPFamilies = []corev1.IPFamily{corev1.IPv6Protocol}
	w.setEndpoints("six")
	slice := w.objs.Slices[len(w.objs.Slices)-1]
	slice.AddressType = discoveryv1.AddressTypeIPv6
	slice.Endpoints = []discoveryv1.Endpoint{{Addresses: []string{"fd00:244::5"}, Conditions: discoveryv1.EndpointConditions{Ready: to(true)}}}
	f := newFakes(Scoped)
	f.sync(t, w.objs, false)
	f.checkInSync(t, w.objs)
	ip, ip6 := f.table(t, knftables.IPv4Family).Dump(), f.table(t, knftables.IPv6Family).Dump()
	if strings.Contains(ip, "ns/six/") || !strings.Contains(ip6, "ns/six/") || !strings.Contains(ip6, "fd00:244::5") {
		t.Errorf("IPv6 Service six: in ip %v, in ip6 %v; want ip6 only, with its endpoint", strings.Contains(ip, "ns/six/"), strings.Contains(ip6, "ns/six/"))
	}
	if strings.Contains(ip6, "ns/web/") {
		t.Error("IPv4 Service web in the ip6 table")
	}
}

// TestNodePortAddressesPerFamily resolves --nodeport-addresses as
// kube-proxy does, one family at a time: the node's interface addresses a
// CIDR of the family holds (none is still narrowed: NodePorts nowhere), a
// CIDR of the whole family or no CIDR of the family accepting everywhere.
func TestNodePortAddressesPerFamily(t *testing.T) {
	ifaces := func() ([]netip.Addr, error) {
		return []netip.Addr{netip.MustParseAddr("10.244.0.1"), netip.MustParseAddr("10.244.1.1"), netip.MustParseAddr("fd00::1")}, nil
	}
	w := &world{}
	w.add("web", "10.96.0.10", 30080, "10.244.1.2")
	for _, tc := range []struct {
		cidrs    []string
		family   knftables.Family
		ips      []string
		narrowed bool
	}{
		{[]string{"10.244.1.0/24"}, knftables.IPv4Family, []string{"10.244.1.1"}, true},
		{[]string{"10.244.1.0/24"}, knftables.IPv6Family, nil, false},
		{[]string{"192.0.2.0/24"}, knftables.IPv4Family, nil, true},
		{[]string{"0.0.0.0/0"}, knftables.IPv4Family, nil, false},
		{[]string{"10.244.0.0/16", "fd00::/64"}, knftables.IPv6Family, []string{"fd00::1"}, true},
	} {
		m := NewMode(Scoped, testNode, nil)
		for _, c := range tc.cidrs {
			m.NodePortCIDRs = append(m.NodePortCIDRs, netip.MustParsePrefix(c))
		}
		m.Interfaces = ifaces
		want, err := m.Want(w.objs, tc.family)
		if err != nil {
			t.Fatal(err)
		}
		var ips []string
		for _, a := range want.Base.NodePortIPs {
			ips = append(ips, a.String())
		}
		if !cmp.Equal(ips, tc.ips) || want.Base.Narrowed != tc.narrowed {
			t.Errorf("%v, %s: node port IPs %v narrowed %v; want %v %v", tc.cidrs, tc.family, ips, want.Base.Narrowed, tc.ips, tc.narrowed)
		}
	}
}
