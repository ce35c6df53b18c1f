package ipvs

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The fixtures are real ipvsadm 1.31 output captured in the IPVS VM
// (harness/ipvsvm); the goldens are the parsed tables re-printed.
func TestParseFixtures(t *testing.T) {
	for _, tc := range []struct{ fixture, golden string }{
		{"ipvsadm-kubeproxy.list.txt", "kubeproxy.golden"},
		{"ipvsadm-kubeproxy.save.txt", "kubeproxy.golden"},
		{"ipvsadm-variety.list.txt", "variety.golden"},
		{"ipvsadm-variety.save.txt", "variety.golden"},
		{"ipvsadm-conns.list.txt", "conns.golden"},
	} {
		t.Run(tc.fixture, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", tc.fixture))
			if err != nil {
				t.Fatal(err)
			}
			tbl, err := Parse(data)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			tbl.Sort()
			checkGolden(t, tc.golden, FormatSave(tbl))
			back, err := ParseSave([]byte(FormatSave(tbl)))
			if err != nil {
				t.Fatalf("ParseSave(FormatSave): %v", err)
			}
			back.Sort()
			if diff := cmp.Diff(withoutConnCounts(tbl), back, addrs); diff != "" {
				t.Errorf("save round trip (-parsed +reparsed):\n%s", diff)
			}
		})
	}
}

func withoutConnCounts(t Table) Table {
	out := Table{}
	for _, vs := range t.VirtualServers {
		rss := vs.RealServers
		vs.RealServers = nil
		for _, rs := range rss {
			rs.ActiveConns, rs.InactiveConns = 0, 0
			vs.RealServers = append(vs.RealServers, rs)
		}
		out.VirtualServers = append(out.VirtualServers, vs)
	}
	return out
}

func TestParseListConnCounts(t *testing.T) {
	data, err := os.ReadFile("testdata/ipvsadm-conns.list.txt")
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := ParseList(data)
	if err != nil {
		t.Fatal(err)
	}
	rs := tbl.VirtualServers[0].RealServers[0]
	if rs.ActiveConns != 12 || rs.InactiveConns != 340 {
		t.Errorf("conns of %s = %d/%d, want 12/340", rs.Key(), rs.ActiveConns, rs.InactiveConns)
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		line     int
		want     string
	}{
		{"dest before service", "  -> 10.0.0.1:80 Masq 1 0 0\n", 1, "before any virtual server"},
		{"names not numbers", "TCP  kubernetes.default:https rr\n", 1, "list with ipvsadm -Ln"},
		{"unknown protocol", "ICMP  10.0.0.1:80 rr\n", 1, "unknown protocol"},
		{"bad forward", "TCP  10.0.0.1:80 rr\n  -> 10.0.0.2:80 Bridge 1 0 0\n", 2, "forwarding method"},
		{"bad weight", "TCP  10.0.0.1:80 rr\n  -> 10.0.0.2:80 Masq x 0 0\n", 2, "weight"},
		{"stats listing", "Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes\n", 1, "no weights"},
		{"unknown flag", "TCP  10.0.0.1:80 rr frobnicate\n", 1, "frobnicate"},
		{"persistent without timeout", "TCP  10.0.0.1:80 rr persistent\n", 1, "incomplete"},
		{"zero fwmark", "FWM  0 rr\n", 1, "positive"},
		{"save dest before service", "-a -t 10.0.0.1:80 -r 10.0.0.2:80 -m -w 1\n", 1, "before its -A line"},
		{"save unknown command", "-A -t 10.0.0.1:80 -s rr\n-X\n", 2, "unknown command"},
		{"save missing value", "-A -t 10.0.0.1:80 -s\n", 1, "needs a value"},
		{"save duplicate", "-A -t 10.0.0.1:80 -s rr\n-A -t 10.0.0.1:80 -s rr\n", 2, "added twice"},
		{"save no selector", "-A -s rr\n", 1, "has no -t"},
		{"save two selectors", "-A -t 10.0.0.1:80 -s rr\n-A -f 2 -u 0.0.0.0:0\n", 2, "more than one of -t, -u, --sctp-service and -f"},
		{"save bad mask", "-A -t 10.0.0.1:80 -s rr -p 60 -M 255.0.255.0\n", 1, "not contiguous"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.in))
			pe, ok := err.(*ParseError)
			if !ok {
				t.Fatalf("Parse error = %v, want *ParseError", err)
			}
			if pe.Line != tc.line || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %q at line %d, want line %d containing %q", err, pe.Line, tc.line, tc.want)
			}
		})
	}
}

func TestParseEmpty(t *testing.T) {
	for _, in := range []string{"", "\n\n", "IP Virtual Server version 1.2.1 (size=4096)\nProt LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n"} {
		tbl, err := Parse([]byte(in))
		if err != nil || len(tbl.VirtualServers) != 0 {
			t.Errorf("Parse(%q) = %+v, %v; want empty table", in, tbl, err)
		}
	}
}
