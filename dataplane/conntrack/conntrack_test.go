package conntrack

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/svctrace/kubectl-svctrace/internal/golden"
)

var addrs = cmp.Comparer(func(a, b netip.Addr) bool { return a == b })

func read(t *testing.T, name string) []Entry {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	entries, err := Parse(data)
	if err != nil {
		t.Fatalf("Parse %s: %v", name, err)
	}
	return entries
}

func TestParseExtended(t *testing.T) {
	got := read(t, "extended.txt")
	want := []Entry{
		{
			Line: 1, Family: "ipv4", Protocol: "tcp", Timeout: 299, State: "ESTABLISHED",
			Original: Tuple{Src: netip.MustParseAddr("192.168.1.20"), Dst: netip.MustParseAddr("10.96.0.1"), SPort: 55000, DPort: 443, Packets: 12, Bytes: 3400},
			Reply:    Tuple{Src: netip.MustParseAddr("172.18.0.2"), Dst: netip.MustParseAddr("192.168.1.20"), SPort: 6443, DPort: 55000, Packets: 10, Bytes: 5600},
			Assured:  true, Zone: 3, Use: 2,
		},
		{
			Line: 2, Family: "ipv6", Protocol: "udp", Timeout: 28,
			Original: Tuple{Src: netip.MustParseAddr("fd00:1::20"), Dst: netip.MustParseAddr("fd00:96::a"), SPort: 33000, DPort: 53},
			Reply:    Tuple{Src: netip.MustParseAddr("fd00:244::3"), Dst: netip.MustParseAddr("fd00:1::20"), SPort: 53, DPort: 33000},
			Mark:     0x4000, Use: 1,
		},
	}
	if diff := cmp.Diff(want, got, addrs); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestParsePlain(t *testing.T) {
	got := read(t, "after-pod-replacement.txt")
	if len(got) != 8 {
		t.Fatalf("got %d entries, want 8 (closing summary line skipped)", len(got))
	}
	for _, tc := range []struct {
		i         int
		proto     string
		state     string
		assured   bool
		unreplied bool
		dnat      bool
	}{
		{0, "udp", "", true, false, true},
		{2, "udp", "", false, true, false},
		{3, "tcp", "ESTABLISHED", true, false, true},
		{5, "tcp", "TIME_WAIT", true, false, true},
		{7, "icmp", "", false, false, false},
	} {
		e := got[tc.i]
		if e.Protocol != tc.proto || e.State != tc.state || e.Assured != tc.assured || e.Unreplied != tc.unreplied || e.DNATed() != tc.dnat {
			t.Errorf("entry %d = %+v (DNATed %v), want proto %s state %q assured %v unreplied %v dnat %v",
				tc.i, e, e.DNATed(), tc.proto, tc.state, tc.assured, tc.unreplied, tc.dnat)
		}
	}
	if got[4].Mark != 16384 || got[6].Family != "ipv6" {
		t.Errorf("mark %d family %s, want 16384 ipv6", got[4].Mark, got[6].Family)
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		line     int
		want     string
	}{
		{"short", "udp 17\n", 1, "before the tuples"},
		{"bad timeout", "udp 17 x src=1.1.1.1 dst=2.2.2.2 src=2.2.2.2 dst=1.1.1.1\n", 1, "timeout"},
		{"bad address", "\nudp 17 3 src=1.1.1 dst=2.2.2.2 src=2.2.2.2 dst=1.1.1.1\n", 2, "not an address"},
		{"bad port", "udp 17 3 src=1.1.1.1 dst=2.2.2.2 sport=70000 src=2.2.2.2 dst=1.1.1.1\n", 1, "not a port"},
		{"no reply", "udp 17 3 src=1.1.1.1 dst=2.2.2.2 sport=1 dport=2\n", 1, "lacks"},
		{"garbage token", "tcp 6 3 ESTABLISHED src=1.1.1.1 dst=2.2.2.2 bogus src=2.2.2.2 dst=1.1.1.1\n", 1, "unexpected token"},
		{"bad mark", "udp 17 3 src=1.1.1.1 dst=2.2.2.2 src=2.2.2.2 dst=1.1.1.1 mark=zz\n", 1, "mark"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.in))
			pe, ok := err.(*ParseError)
			if !ok {
				t.Fatalf("err = %v, want *ParseError", err)
			}
			if pe.Line != tc.line || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %q at line %d, want line %d containing %q", err, pe.Line, tc.line, tc.want)
			}
		})
	}
}

func ap(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

func TestFindStale(t *testing.T) {
	entries := read(t, "after-pod-replacement.txt")
	dns := ServiceVIP{Service: "kube-system/kube-dns:dns", Protocol: "UDP", VIP: ap("10.96.0.10:53"), Endpoints: []netip.AddrPort{ap("10.244.2.9:53")}}
	web := ServiceVIP{Service: "default/web:http", Protocol: "tcp", VIP: ap("10.96.0.20:80"), Endpoints: []netip.AddrPort{ap("10.244.3.3:8080")}}
	dns6 := ServiceVIP{Service: "kube-system/kube-dns:dns", Protocol: "udp", VIP: ap("[fd00:96::10]:53"), Endpoints: []netip.AddrPort{ap("[fd00:244::9]:53")}}
	empty := ServiceVIP{Service: "default/empty", Protocol: "tcp", VIP: ap("10.96.0.99:443")}
	for _, tc := range []struct {
		name string
		vips []ServiceVIP
	}{
		{"dns-pod-replaced", []ServiceVIP{dns}},
		{"all", []ServiceVIP{dns, web, dns6, empty}},
		{"none-known", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b strings.Builder
			for _, f := range FindStale(entries, tc.vips) {
				fmt.Fprintf(&b, "%s | %s\n  expected: %s\n  actual:   %s\n  %s; delete it with %s\n", f.ID, f.Subject, f.Expected, f.Actual, f.Message, f.Command)
			}
			checkGolden(t, "stale-"+tc.name+".golden", b.String())
		})
	}
}

func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	golden.Check(t, filepath.Join("testdata", name), []byte(got))
}

func FuzzParse(f *testing.F) {
	for _, n := range []string{"after-pod-replacement.txt", "extended.txt"} {
		if data, err := os.ReadFile(filepath.Join("testdata", n)); err == nil {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		entries, err := Parse(data)
		if err == nil {
			_ = FindStale(entries, []ServiceVIP{{Protocol: "udp", VIP: ap("10.96.0.10:53")}})
		}
	})
}
