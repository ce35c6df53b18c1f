package iptablestest

import (
	"strings"
	"testing"
)

func TestRestoreIsAtomicPerTable(t *testing.T) {
	f := New()
	ctx := t.Context()
	if err := f.Restore(ctx, []byte("*nat\n:A - [0:0]\n-A A -j ACCEPT\n-A PREROUTING -j A\nCOMMIT\n")); err != nil {
		t.Fatal(err)
	}
	before := f.Dump()
	bad := "*filter\n:F - [0:0]\nCOMMIT\n*nat\n:A - [0:0]\n:B - [0:0]\n-A B -j MISSING\nCOMMIT\n"
	err := f.Restore(ctx, []byte(bad))
	if err == nil || !strings.Contains(err.Error(), "MISSING") {
		t.Fatalf("got %v, want the jump to a missing chain to fail", err)
	}
	after := f.Dump()
	if !strings.Contains(after, ":F - [0:0]") {
		t.Error("the filter block before the failing one must stay applied")
	}
	if strings.Contains(after, ":B ") || !strings.Contains(after, "-A A -j ACCEPT") {
		t.Errorf("the failing nat block left partial state:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}

func TestRestoreEdits(t *testing.T) {
	f := New()
	ctx := t.Context()
	steps := []string{
		"*nat\n:S - [0:0]\n-A S -m comment --comment \"x y\" -j RETURN\n-A S -j ACCEPT\nCOMMIT\n",
		"*nat\n-I S 2 -j DROP\n-D S -m comment --comment \"x y\" -j RETURN\n-R S 2 -j MARK --or-mark 0x4000\nCOMMIT\n",
	}
	for _, s := range steps {
		if err := f.Restore(ctx, []byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	save, _ := f.Save(ctx, "nat", false)
	if !strings.Contains(string(save), "-A S -j DROP\n-A S -j MARK --or-mark 0x4000\n") {
		t.Errorf("edits applied wrongly:\n%s", save)
	}
	if err := f.Restore(ctx, []byte("*nat\n-D S -j RETURN\nCOMMIT\n")); err == nil {
		t.Error("deleting a missing rule must fail")
	}
	if err := f.Restore(ctx, []byte("*nat\n:S - [0:0]\n-X S\nCOMMIT\n")); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(f.Dump(), ":S ") {
		t.Error("-X left the chain")
	}
}

func TestSingleRuleOps(t *testing.T) {
	f := New()
	ctx := t.Context()
	if ok, err := f.EnsureChain(ctx, "nat", "C"); ok || err != nil {
		t.Fatalf("EnsureChain: %v %v", ok, err)
	}
	rule := []string{"-m", "comment", "--comment", "svc portals", "-j", "C"}
	for i, want := range []bool{false, true} {
		if ok, err := f.EnsureRule(ctx, "nat", "OUTPUT", rule...); ok != want || err != nil {
			t.Errorf("EnsureRule #%d: existed=%v err=%v, want %v", i, ok, err, want)
		}
	}
	if err := f.DeleteChain(ctx, "nat", "C"); err == nil {
		t.Error("deleting a referenced chain must fail")
	}
	if err := f.DeleteRule(ctx, "nat", "OUTPUT", rule...); err != nil {
		t.Fatal(err)
	}
	if err := f.DeleteChain(ctx, "nat", "C"); err != nil {
		t.Fatal(err)
	}
	if f.Dump() != New().Dump() {
		t.Errorf("state not back to empty:\n%s", f.Dump())
	}
}
