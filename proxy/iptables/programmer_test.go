package iptables

import (
	"errors"
	"strings"
	"testing"

	"github.com/svctrace/kubectl-svctrace/kernel/iptables/iptablestest"
)

func TestScopedSyncOwnsOnlyItsChains(t *testing.T) {
	f := iptablestest.New()
	p := New(f, Scoped)
	w := threeServices()
	res := mustSync(t, p, w.desired(t, Scoped), false)
	if !res.Full || res.Chains == 0 || len(res.Repairs) != 0 {
		t.Errorf("first sync: %s", res)
	}
	dump := f.Dump()
	if strings.Contains(dump, "KUBE-") {
		t.Errorf("scoped mode wrote kube-proxy names:\n%s", dump)
	}
	for _, want := range []string{":SVCT-SVC-" + chainHash("web"), "-A PREROUTING -m comment --comment \"kubernetes service portals\" -j SVCT-SERVICES", "-j SVCT-NODEPORTS"} {
		if !strings.Contains(dump, want) {
			t.Errorf("missing %q in\n%s", want, dump)
		}
	}
	again := mustSync(t, p, w.desired(t, Scoped), true)
	if again.Input != "" || len(again.Repairs) != 0 {
		t.Errorf("full resync of an untouched kernel wrote or repaired: %s\n%s", again, again.Input)
	}
}

func TestReplaceLayoutIsTheGenerators(t *testing.T) {
	f := iptablestest.New()
	p := New(f, Replace)
	d := threeServices().desired(t, Replace)
	mustSync(t, p, d, false)
	fresh := iptablestest.New()
	if err := fresh.Restore(t.Context(), []byte(d.Ruleset.RestoreInput())); err != nil {
		t.Fatal(err)
	}
	for _, j := range d.Ruleset.Jumps {
		if _, err := fresh.EnsureRule(t.Context(), j.Table, j.Chain, j.Args()...); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range d.Ruleset.EnsuredChains {
		if _, err := fresh.EnsureChain(t.Context(), c.Table, c.Chain); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := f.Dump(), fresh.Dump(); got != want {
		t.Errorf("replace mode differs from the generator's restore input:\n got:\n%s\nwant:\n%s", got, want)
	}
}

// An endpoint change must rewrite only that Service's chains: no shared
// chain (SVCT-SERVICES, SVCT-NODEPORTS, …) appears in the input.
func TestEndpointChangeTouchesOnlyItsService(t *testing.T) {
	f := iptablestest.New()
	p := New(f, Scoped)
	w := threeServices()
	mustSync(t, p, w.desired(t, Scoped), false)
	w.setEndpoints("web", "10.244.1.1", "10.244.2.3")
	res := mustSync(t, p, w.desired(t, Scoped), false)
	if res.Full || res.Deleted != 1 {
		t.Errorf("want a partial sync deleting one endpoint chain: %s", res)
	}
	for _, line := range strings.Split(res.Input, "\n") {
		if strings.Contains(line, "SVCT-SERVICES") || strings.Contains(line, "SVCT-NODEPORTS") ||
			strings.Contains(line, chainHash("api")) {
			t.Errorf("partial sync touched a shared or unrelated chain: %q\n%s", line, res.Input)
		}
	}
	checkConverged(t, p, w, f)
}

// A new Service and a Service losing its endpoints edit the shared chains
// with -I/-D lines instead of rewriting them.
func TestServiceChangesEditSharedChains(t *testing.T) {
	f := iptablestest.New()
	p := New(f, Scoped)
	w := threeServices()
	mustSync(t, p, w.desired(t, Scoped), false)
	w.add("new", "10.96.0.13", 0, "10.244.3.3")
	w.setEndpoints("api")
	res := mustSync(t, p, w.desired(t, Scoped), false)
	for _, decl := range []string{":SVCT-SERVICES ", ":SVCT-NODEPORTS "} {
		if strings.Contains(res.Input, decl) {
			t.Errorf("shared chain %s rewritten instead of edited:\n%s", decl, res.Input)
		}
	}
	if !strings.Contains(res.Input, "-I SVCT-SERVICES ") || !strings.Contains(res.Input, "-D SVCT-SERVICES ") {
		t.Errorf("want -I and -D edits of SVCT-SERVICES:\n%s", res.Input)
	}
	checkConverged(t, p, w, f)
}

// checkConverged wants a full resync after partial ones to find nothing to
// repair, and the kernel to equal one programmed from scratch.
func checkConverged(t *testing.T, p *Programmer, w *world, f *iptablestest.Fake) {
	t.Helper()
	res := mustSync(t, p, w.desired(t, Scoped), true)
	if len(res.Repairs) != 0 || res.Input != "" {
		t.Errorf("partial syncs left drift: %s\n%s", res, res.Input)
	}
	fresh := iptablestest.New()
	mustSync(t, New(fresh, Scoped), w.desired(t, Scoped), false)
	if f.Dump() != fresh.Dump() {
		t.Errorf("partial syncs differ from a fresh sync:\n%s\nfresh:\n%s", f.Dump(), fresh.Dump())
	}
}

func TestFullSyncRepairsAndCounts(t *testing.T) {
	f := iptablestest.New()
	p := New(f, Scoped)
	w := threeServices()
	mustSync(t, p, w.desired(t, Scoped), false)
	want := f.Dump()
	web := "SVCT-SVC-" + chainHash("web")
	vandal := "*nat\n-F " + web + "\n-D PREROUTING -m comment --comment \"kubernetes service portals\" -j SVCT-SERVICES\n" +
		":SVCT-SEP-STALE - [0:0]\n-A SVCT-SEP-STALE -j ACCEPT\nCOMMIT\n"
	if err := f.Restore(t.Context(), []byte(vandal)); err != nil {
		t.Fatal(err)
	}
	res := mustSync(t, p, w.desired(t, Scoped), true)
	wantRepairs := map[string]int{RepairRulesDiffer: 1, RepairChainStale: 1, RepairJumpMissing: 1}
	if len(res.Repairs) != len(wantRepairs) {
		t.Errorf("repairs %v, want %v", res.Repairs, wantRepairs)
	}
	for k, n := range wantRepairs {
		if res.Repairs[k] != n {
			t.Errorf("repairs %v, want %v", res.Repairs, wantRepairs)
		}
	}
	if got := f.Dump(); got != want {
		t.Errorf("not repaired:\n got:\n%s\nwant:\n%s", got, want)
	}
}

func TestFailedRestoreForcesAFullSync(t *testing.T) {
	f := iptablestest.New()
	p := New(f, Scoped)
	w := threeServices()
	mustSync(t, p, w.desired(t, Scoped), false)
	before := f.Dump()
	f.FailRestore = func(string) error { return errors.New("injected") }
	w.setEndpoints("web", "10.244.9.9")
	if _, err := p.Sync(t.Context(), w.desired(t, Scoped), false, false); err == nil {
		t.Fatal("sync with a failing restore succeeded")
	}
	if f.Dump() != before {
		t.Error("failed restore changed the state")
	}
	f.FailRestore = nil
	if res := mustSync(t, p, w.desired(t, Scoped), false); !res.Full {
		t.Errorf("the sync after a failure must be full: %s", res)
	}
}

func TestCleanupRemovesOwnAndKeepsForeign(t *testing.T) {
	f := iptablestest.New()
	canary := "*nat\n:CANARY - [0:0]\n-A CANARY -j RETURN\n-A PREROUTING -j CANARY\n-A OUTPUT -p tcp -j ACCEPT\nCOMMIT\n" +
		"*filter\n-A FORWARD -p udp -j DROP\nCOMMIT\n"
	if err := f.Restore(t.Context(), []byte(canary)); err != nil {
		t.Fatal(err)
	}
	before := f.Dump()
	p := New(f, Scoped)
	mustSync(t, p, threeServices().desired(t, Scoped), false)
	if _, err := p.Cleanup(t.Context(), false); err != nil {
		t.Fatal(err)
	}
	if got := f.Dump(); got != before {
		t.Errorf("cleanup left or removed something:\n got:\n%s\nwant:\n%s", got, before)
	}
}
