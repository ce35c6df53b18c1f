package ipset_test

import (
	"testing"

	"github.com/svctrace/kubectl-svctrace/kernel/ipset"
	"github.com/svctrace/kubectl-svctrace/kernel/ipset/ipsettest"
)

func TestEntriesReadBackAsIpsetListsThem(t *testing.T) {
	for in, want := range map[string]string{
		"10.96.0.1":                      "10.96.0.1",
		"10.96.0.1,tcp:443":              "10.96.0.1,tcp:443",
		"10.244.1.7,udp:53,10.244.1.7":   "10.244.1.7,udp:53,10.244.1.7",
		"203.0.113.9,tcp:80,10.1.2.3/8":  "203.0.113.9,tcp:80,10.0.0.0/8",
		"203.0.113.9,tcp:80,10.1.2.3/32": "203.0.113.9,tcp:80,10.1.2.3",
		"30080":                          "30080",
		"fd00::1,sctp:30001":             "fd00::1,sctp:30001",
	} {
		got, err := ipset.Canonical(in)
		if err != nil || got != want {
			t.Errorf("Canonical(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "x", "10.0.0.1,tcp", "10.0.0.1,icmp:1", "10.0.0.1,tcp:1,nope", "1,2,3,4"} {
		if _, err := ipset.ParseEntry(bad); err == nil {
			t.Errorf("ParseEntry(%q) succeeded", bad)
		}
	}
}

func TestFakeRefusesWhatTheKernelRefuses(t *testing.T) {
	ctx := t.Context()
	f := ipsettest.NewFake()
	if err := f.CreateSet(ctx, ipset.Set{Name: "S", Type: ipset.HashIPPort}); err != nil {
		t.Fatal(err)
	}
	if err := f.CreateSet(ctx, ipset.Set{Name: "S", Type: ipset.HashIPPort}); err != nil {
		t.Errorf("creating an existing set of the same type: %v", err)
	}
	if err := f.CreateSet(ctx, ipset.Set{Name: "S6", Type: ipset.HashIPPortIP, IPv6: true}); err != nil {
		t.Fatal(err)
	}
	if err := f.AddEntry(ctx, "S6", "fd00::1,tcp:80,fd00::1"); err != nil {
		t.Errorf("an IPv6 entry in an inet6 set: %v", err)
	}
	for name, err := range map[string]error{
		"other type":      f.CreateSet(ctx, ipset.Set{Name: "S", Type: ipset.HashIP}),
		"other family":    f.CreateSet(ctx, ipset.Set{Name: "S", Type: ipset.HashIPPort, IPv6: true}),
		"IPv6 in inet":    f.AddEntry(ctx, "S", "fd00::1,tcp:80"),
		"IPv4 in inet6":   f.AddEntry(ctx, "S6", "10.0.0.1,tcp:80,10.0.0.1"),
		"mixed in inet6":  f.AddEntry(ctx, "S6", "fd00::2,tcp:80,10.0.0.1"),
		"wrong shape":     f.AddEntry(ctx, "S", "30080"),
		"absent entry":    f.DelEntry(ctx, "S", "10.0.0.1,tcp:80"),
		"missing set":     f.AddEntry(ctx, "T", "10.0.0.1,tcp:80"),
		"destroy missing": f.DestroySet(ctx, "T"),
	} {
		if err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if err := f.AddEntry(ctx, "S", "10.0.0.1,tcp:80"); err != nil {
		t.Fatal(err)
	}
	if err := f.AddEntry(ctx, "S", "10.0.0.1,tcp:80"); err == nil {
		t.Error("adding an entry twice succeeded")
	}
	f.Referenced = func(string) bool { return true }
	if err := f.DestroySet(ctx, "S"); err == nil {
		t.Error("destroying a referenced set succeeded")
	}
}
