//go:build linux

package iptables

import (
	"fmt"
	"strings"
	"testing"

	"github.com/svctrace/kubectl-svctrace/internal/netnstest"
)

// bigBlock is a nat block of n chains with a rule each and a chain
// jumping to all of them, plus extra lines.
func bigBlock(n int, extra ...string) string {
	var b strings.Builder
	b.WriteString("*nat\n:SVCT-ALL - [0:0]\n")
	for i := range n {
		fmt.Fprintf(&b, ":SVCT-SEP-%05d - [0:0]\n", i)
	}
	for i := range n {
		fmt.Fprintf(&b, "-A SVCT-SEP-%05d -p tcp -m comment --comment \"ns/s%d:p\" -m tcp -j DNAT --to-destination 10.1.%d.%d:80\n", i, i, i/250, i%250)
		fmt.Fprintf(&b, "-A SVCT-ALL -j SVCT-SEP-%05d\n", i)
	}
	for _, l := range extra {
		b.WriteString(l + "\n")
	}
	b.WriteString("COMMIT\n")
	return b.String()
}

func TestWholeTableCacheOnlyForLargeBlocks(t *testing.T) {
	small := "*filter\n:SVCT-X - [0:0]\n-A SVCT-X -j RETURN\nCOMMIT\n"
	big := bigBlock(wholeTableAbove)
	got := string(wholeTableCache([]byte(small + big)))
	if got != small+strings.Replace(big, "*nat\n", "*nat\n-S\n", 1) {
		t.Errorf("want -S after *nat only:\n%.300s", got)
	}
	rec := &recorder{}
	if err := newRunner(Options{Backend: BackendLegacy, Exec: rec}).Restore(t.Context(), []byte(big)); err != nil {
		t.Fatal(err)
	}
	if rec.calls[0].stdin != big {
		t.Error("the legacy backend's input was changed")
	}
}

// TestRealLargeRestore restores a large block through the Runner (with the
// whole-table cache) into a table that already holds a foreign chain:
// the result is what plain iptables-nft-restore --noflush makes of it, the
// foreign chain's rule and counters stay, and a large block that fails
// changes nothing.
func TestRealLargeRestore(t *testing.T) {
	netnstest.Require(t, "ip", "iptables-nft-restore")
	foreign := "*nat\n:CANARY - [0:0]\n[7:420] -A CANARY -j RETURN\n-A PREROUTING -j CANARY\nCOMMIT\n"
	input := bigBlock(2000)
	plain, viaRunner := netnstest.New(t, "kbigp"), netnstest.New(t, "kbigr")
	for _, ns := range []string{plain, viaRunner} {
		netnstest.Exec(t, ns, foreign, "iptables-nft-restore", "--noflush", "--counters")
	}
	netnstest.Exec(t, plain, input, "iptables-nft-restore", "--noflush")
	var before string
	netnstest.Do(t, viaRunner, func() {
		r, err := New(t.Context(), Options{Backend: BackendNFT})
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Restore(t.Context(), []byte(input)); err != nil {
			t.Fatal(err)
		}
		saved, _ := r.Save(t.Context(), TableNAT, true)
		before = stripComments(saved)
		if err := r.Restore(t.Context(), []byte(bigBlock(2000, "-A SVCT-ALL -j SVCT-MISSING"))); err == nil {
			t.Error("a large restore jumping to a missing chain succeeded")
		}
	})
	save := func(ns string) string {
		return stripComments([]byte(netnstest.Exec(t, ns, "", "iptables-nft-save", "-c", "-t", "nat")))
	}
	if got := save(viaRunner); got != before {
		t.Errorf("the failed large restore changed the table")
	}
	if got, want := save(viaRunner), save(plain); got != want {
		t.Errorf("restore with the whole-table cache differs from plain --noflush:\n%.2000s\nwant:\n%.2000s", got, want)
	}
	if !strings.Contains(before, "[7:420] -A CANARY -j RETURN") {
		t.Errorf("the foreign rule or its counters did not survive:\n%.500s", before)
	}
}
