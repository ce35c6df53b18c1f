//go:build linux

package iptables

import (
	"os"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/svctrace/kubectl-svctrace/internal/netnstest"
)

// TestRealRunner programs real iptables (both backends) in a private
// network namespace: restore, save, a failing restore that must leave the
// table untouched, the single-rule operations and counters.
func TestRealRunner(t *testing.T) {
	netnstest.Require(t, "ip", "iptables-nft-restore", "iptables-legacy-restore")
	for _, backend := range []string{BackendNFT, BackendLegacy} {
		t.Run(backend, func(t *testing.T) {
			ns := netnstest.New(t, "kipt")
			netnstest.Do(t, ns, func() { exerciseRunner(t, backend) })
		})
	}
}

func exerciseRunner(t *testing.T, backend string) {
	ctx := t.Context()
	r, err := New(ctx, Options{Backend: backend})
	if err != nil {
		t.Fatal(err)
	}
	good := "*nat\n:SVCT-A - [0:0]\n-A SVCT-A -m comment --comment \"svc a\" -j RETURN\nCOMMIT\n"
	if err := r.Restore(ctx, []byte(good)); err != nil {
		t.Fatal(err)
	}
	before, err := r.Save(ctx, TableNAT, false)
	if err != nil || !strings.Contains(string(before), `-A SVCT-A -m comment --comment "svc a" -j RETURN`) {
		t.Fatalf("save after restore: %v\n%s", err, before)
	}
	// The second chain's jump target does not exist: the whole nat block
	// must fail, including the flush of SVCT-A and the new chain SVCT-B.
	bad := "*nat\n:SVCT-A - [0:0]\n:SVCT-B - [0:0]\n-A SVCT-B -j SVCT-MISSING\nCOMMIT\n"
	if err := r.Restore(ctx, []byte(bad)); err == nil {
		t.Fatal("a restore jumping to a missing chain succeeded")
	}
	after, _ := r.Save(ctx, TableNAT, false)
	if stripComments(after) != stripComments(before) {
		t.Errorf("failed restore changed the table:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	rule := []string{"-m", "comment", "--comment", "svctrace portals", "-j", "SVCT-A"}
	for i, want := range []bool{false, true} {
		if ok, err := r.EnsureRule(ctx, TableNAT, "OUTPUT", rule...); ok != want || err != nil {
			t.Errorf("EnsureRule #%d: existed=%v err=%v, want %v", i, ok, err, want)
		}
	}
	cs, err := r.Counters(ctx, TableNAT, "OUTPUT")
	if err != nil || len(cs) != 1 || !strings.Contains(cs[0].Rule, "-j SVCT-A") {
		t.Errorf("Counters: %+v, %v", cs, err)
	}
	if err := r.DeleteRule(ctx, TableNAT, "OUTPUT", rule...); err != nil {
		t.Fatal(err)
	}
	if err := r.DeleteChain(ctx, TableNAT, "SVCT-A"); err != nil {
		t.Fatal(err)
	}
	if err := r.DeleteChain(ctx, TableNAT, "SVCT-A"); err != nil {
		t.Errorf("deleting a missing chain: %v", err)
	}
	if ok, err := r.EnsureChain(ctx, TableFilter, "SVCT-C"); ok || err != nil {
		t.Errorf("EnsureChain: %v %v", ok, err)
	}
}

func stripComments(b []byte) string {
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestRealRestoreWaitsForTheLock holds the xtables lock (legacy backend)
// while a restore runs: the restore must wait for it and then succeed.
func TestRealRestoreWaitsForTheLock(t *testing.T) {
	netnstest.Require(t, "ip", "iptables-legacy-restore")
	ns := netnstest.New(t, "klock")
	f, err := os.OpenFile("/run/xtables.lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	var released atomic.Bool
	go func() {
		time.Sleep(1500 * time.Millisecond)
		released.Store(true)
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	}()
	netnstest.Do(t, ns, func() {
		r := newRunner(Options{Backend: BackendLegacy, LockWait: 30 * time.Second})
		if err := r.Restore(t.Context(), []byte("*nat\n:SVCT-L - [0:0]\nCOMMIT\n")); err != nil {
			t.Fatalf("restore under a held lock failed instead of waiting: %v", err)
		}
	})
	if !released.Load() {
		t.Error("restore finished while the xtables lock was still held")
	}
}
