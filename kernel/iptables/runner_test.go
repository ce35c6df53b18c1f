//go:build linux

package iptables

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
)

type call struct {
	stdin string
	argv  []string
}

// recorder is an Execer that records calls and answers from a table.
type recorder struct {
	calls []call
	out   map[string]string // argv joined by spaces -> stdout
	fail  map[string]bool
}

func (r *recorder) Run(_ context.Context, stdin []byte, name string, args ...string) ([]byte, error) {
	argv := append([]string{name}, args...)
	r.calls = append(r.calls, call{string(stdin), argv})
	key := strings.Join(argv, " ")
	if r.fail[key] {
		return nil, errors.New("exit status 1")
	}
	return []byte(r.out[key]), nil
}

func TestRestoreAndSaveArgv(t *testing.T) {
	for _, tc := range []struct {
		opts          Options
		restore, save []string
	}{
		{Options{Backend: BackendNFT}, []string{"iptables-nft-restore", "--noflush", "-w", "60"}, []string{"iptables-nft-save", "-t", "nat", "-c"}},
		{Options{Backend: BackendLegacy, IPv6: true, LockWait: 5e9}, []string{"ip6tables-legacy-restore", "--noflush", "-w", "5"}, []string{"ip6tables-legacy-save", "-t", "nat", "-c"}},
	} {
		rec := &recorder{}
		tc.opts.Exec = rec
		r := newRunner(tc.opts)
		in := "*nat\n:SVCT-SERVICES - [0:0]\nCOMMIT\n"
		if err := r.Restore(t.Context(), []byte(in)); err != nil {
			t.Fatal(err)
		}
		if _, err := r.Save(t.Context(), TableNAT, true); err != nil {
			t.Fatal(err)
		}
		if len(rec.calls) != 2 || !slices.Equal(rec.calls[0].argv, tc.restore) || rec.calls[0].stdin != in ||
			!slices.Equal(rec.calls[1].argv, tc.save) || rec.calls[1].stdin != "" {
			t.Errorf("%+v: calls %q, want restore %q with the input on stdin, then save %q", tc.opts, rec.calls, tc.restore, tc.save)
		}
	}
}

func TestRestoreFailureNamesTheCommand(t *testing.T) {
	rec := &recorder{fail: map[string]bool{"iptables-nft-restore --noflush -w 60": true}}
	err := newRunner(Options{Backend: BackendNFT, Exec: rec}).Restore(t.Context(), []byte("*nat\nCOMMIT\n"))
	if err == nil || !strings.Contains(err.Error(), "iptables-restore") {
		t.Errorf("got %v, want an error naming iptables-restore", err)
	}
}

func TestDefaultBackend(t *testing.T) {
	for out, want := range map[string]string{
		"iptables v1.8.9 (nf_tables)\n": BackendNFT,
		"iptables v1.8.9 (legacy)\n":    BackendLegacy,
		"iptables v1.4.21\n":            BackendLegacy,
	} {
		rec := &recorder{out: map[string]string{"iptables --version": out}}
		got, err := DefaultBackend(t.Context(), rec, false)
		if err != nil || got != want {
			t.Errorf("%q: got %q, %v; want %q", out, got, err, want)
		}
	}
	if _, err := DefaultBackend(t.Context(), &recorder{fail: map[string]bool{"ip6tables --version": true}}, true); err == nil {
		t.Error("a missing ip6tables must be an error")
	}
}

func TestCheckBackendRefusesTheOtherOnesRules(t *testing.T) {
	kube := "*nat\n:PREROUTING ACCEPT [0:0]\n:KUBE-SERVICES - [0:0]\nCOMMIT\n"
	rec := &recorder{out: map[string]string{"iptables-legacy-save -t nat": kube}}
	err := CheckBackend(t.Context(), rec, false, BackendNFT, "KUBE-")
	if err == nil || !strings.Contains(err.Error(), "legacy") || !strings.Contains(err.Error(), "nf_tables") {
		t.Errorf("got %v, want a refusal naming both backends", err)
	}
	rec.out["iptables-nft-save -t nat"] = kube
	if err := CheckBackend(t.Context(), rec, false, BackendNFT, "KUBE-"); err != nil {
		t.Errorf("chains in both backends: got %v, want the chosen one accepted", err)
	}
	if err := CheckBackend(t.Context(), &recorder{}, false, BackendLegacy, "KUBE-"); err != nil {
		t.Errorf("no chains anywhere: %v", err)
	}
}

func TestParseCounters(t *testing.T) {
	got, err := parseCounters("X", []string{"-N X", `-A X -m comment --comment "a b" -c 12 720 -j ACCEPT`, "-A X -c 0 0"})
	if err != nil {
		t.Fatal(err)
	}
	want := []Counter{{`-A X -m comment --comment "a b" -j ACCEPT`, 12, 720}, {"-A X", 0, 0}}
	if !slices.Equal(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
	if _, err := parseCounters("X", []string{"-A X -j ACCEPT -c x 1"}); err == nil {
		t.Error("malformed counters must be an error")
	}
}
