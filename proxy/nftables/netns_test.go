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

// realNFT is the mode programming table ip svctrace through the real nft,
// in the network namespace the test runs in (see netnstest.Do).
type realNFT struct {
	t    *testing.T
	m    *Mode
	nft  *refusing
	read Reader
}

func newRealNFT(t *testing.T) *realNFT {
	t.Helper()
	nft, err := knftables.New(knftables.IPv4Family, Scoped.TableName())
	if err != nil {
		t.Fatal(err)
	}
	r := &realNFT{t: t, nft: &refusing{Interface: nft}}
	r.read = func(ctx context.Context) (*model.Table, error) {
		return knft.ListTable(ctx, knft.ExecRunner{}, "ip", Scoped.TableName())
	}
	r.m = NewMode(Scoped, testNode, []Kernel{{Family: knftables.IPv4Family, NFT: r.nft, Read: r.read}})
	return r
}

func (r *realNFT) sync(what string, objs proxy.Objects, full bool) proxy.Report {
	r.t.Helper()
	rep, err := r.m.Sync(r.t.Context(), objs, full, false)
	if err != nil {
		r.t.Fatalf("%s: %v\n%s", what, err, rep.Changes)
	}
	return rep
}

// listed is the table as nft lists it, dumped.
func (r *realNFT) listed() string {
	r.t.Helper()
	got, err := r.read(r.t.Context())
	if err != nil || got == nil {
		r.t.Fatalf("list the table: %v", err)
	}
	return got.Dump()
}

// inSync wants nft's table to be what the layout materializes for objs,
// and returns its dump.
func (r *realNFT) inSync(what string, objs proxy.Objects) string {
	r.t.Helper()
	w, err := r.m.Want(objs, knftables.IPv4Family)
	if err != nil {
		r.t.Fatal(err)
	}
	rs, err := Scoped.Materialize(w)
	if err != nil {
		r.t.Fatal(err)
	}
	got := r.listed()
	if d := cmp.Diff(rs.Tables[0].Dump(), got); d != "" {
		r.t.Errorf("%s: table (-materialized +nft):\n%s", what, d)
	}
	return got
}

// TestRealNFT drives the mode against the real nft in a network namespace
// of its own: partial syncs (endpoints changed, a Service removed) leave
// the table as the layout materializes it; a transaction nft refuses
// half-way applies none of its operations (nft transactions are atomic),
// and the next sync is full and brings the table in sync.
func TestRealNFT(t *testing.T) {
	netnstest.Require(t, "ip", "nft")
	ns := netnstest.New(t, "nftprog")
	netnstest.Do(t, ns, func() {
		r := newRealNFT(t)
		w := threeServices()
		r.sync("first sync", w.objs, false)
		r.inSync("first sync", w.objs)

		w.setEndpoints("web", "10.244.1.1", "10.244.3.7")
		if rep := r.sync("endpoint change", w.objs, false); rep.Full || len(mentions(rep.Changes, "ns/api/", "ns/empty/")) > 0 {
			t.Errorf("endpoint change of web: full %v, transaction:\n%s", rep.Full, rep.Changes)
		}
		r.inSync("endpoint change", w.objs)
		w.objs.Services, w.objs.Slices = w.objs.Services[1:], w.objs.Slices[1:]
		r.sync("web removed", w.objs, false)
		before := r.inSync("web removed", w.objs)

		w.setEndpoints("api", "10.244.1.4", "10.244.1.8")
		// Every transaction now ends with an operation nft refuses (a rule
		// in a chain that does not exist), after all the valid ones.
		r.nft.refuse = func(tx *knftables.Transaction) bool {
			tx.Add(&knftables.Rule{Chain: "no-such-chain", Rule: "drop"})
			return false
		}
		rep, err := r.m.Sync(t.Context(), w.objs, false, false)
		if err == nil || !strings.Contains(rep.Changes, "ns/api/") {
			t.Fatalf("a transaction with a refused operation: error %v, transaction:\n%s", err, rep.Changes)
		}
		if d := cmp.Diff(before, r.listed()); d != "" {
			t.Errorf("a refused transaction changed the table (-before +after):\n%s", d)
		}
		r.nft.refuse = nil
		// The table was left as it was: the full sync finds api's chain as
		// it was before the change, and only that.
		if rep := r.sync("after the failure", w.objs, false); !rep.Full || !equalCounts(rep.Repairs, map[string]int{RepairRulesDiffer: 1}) {
			t.Errorf("the sync after a failure: full %v, repairs %v; want full, rules_differ=1 (api's chain)", rep.Full, rep.Repairs)
		}
		r.inSync("after the failure", w.objs)
	})
}

// TestRealNFTRepairs: what nft commands changed by hand in the real table
// (an element pointed elsewhere, elements, a chain and a set added, a base
// chain redefined) is put right by one full sync and counted by kind.
func TestRealNFTRepairs(t *testing.T) {
	netnstest.Require(t, "ip", "nft")
	ns := netnstest.New(t, "nftfix")
	w := threeServices()
	var r *realNFT
	netnstest.Do(t, ns, func() {
		r = newRealNFT(t)
		r.sync("first sync", w.objs, false)
	})
	web := model.ServiceChain(model.PortName{Namespace: "ns", Name: "web", Protocol: "tcp", Port: "http"})
	netnstest.Exec(t, ns, "table ip svctrace {\n"+
		"  map service-ips { type ipv4_addr . inet_proto . inet_service : verdict; elements = { 10.96.0.11 . tcp . 80 : goto "+web+" } }\n"+
		"  set cluster-ips { type ipv4_addr; elements = { 10.96.9.9 } }\n"+
		"  chain left-by-hand { }\n"+
		"  set hand { type ipv4_addr; }\n}\n",
		"sh", "-c", "nft delete element ip svctrace service-ips '{ 10.96.0.11 . tcp . 80 }' && nft -f -")
	netnstest.Do(t, ns, func() {
		rep := r.sync("repair", w.objs, true)
		want := map[string]int{RepairElementDiffers: 1, RepairElementStale: 1, RepairChainStale: 1, RepairSetStale: 1}
		if !equalCounts(rep.Repairs, want) {
			t.Errorf("repairs %v, want %v; transaction:\n%s", rep.Repairs, want, rep.Changes)
		}
		r.inSync("repaired", w.objs)
	})
	netnstest.Exec(t, ns, "", "sh", "-c", "nft flush chain ip svctrace nat-output && nft delete chain ip svctrace nat-output && "+
		"nft add chain ip svctrace nat-output '{ type nat hook output priority 0; }'")
	netnstest.Do(t, ns, func() {
		rep := r.sync("redefined", w.objs, true)
		if rep.Repairs[RepairDefinition] != 1 || !strings.Contains(rep.Changes, "delete table ip svctrace") {
			t.Errorf("a base chain of another priority: repairs %v, want definition=1 and the table rebuilt:\n%s", rep.Repairs, rep.Changes)
		}
		r.inSync("rebuilt", w.objs)
	})
}
