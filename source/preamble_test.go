package source

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/svctrace/kubectl-svctrace/trace"
)

const banner = "Creating debugging pod node-debugger-node-1-x7k2p with container debugger on node node-1.\n" +
	"If you don't see a command prompt, try pressing enter.\n\n"

var dumpFiles = map[DumpKind]string{
	IPTablesSave: "../testdata/dumps/node-1.iptables-save",
	NFTJSON:      "../dataplane/nftables/testdata/v137.json",
	IPVSList:     "../testdata/dumps/web.ipvs.txt",
	IPVSAddrs:    "../testdata/dumps/web.ip-addr.txt",
	Conntrack:    "../testdata/dumps/web.conntrack.txt",
}

// TestBannerBeforeTheDumpIsSkippedAndReported feeds every kind of dump
// with kubectl debug's messages in front: it is read as without them, and
// the lines are reported.
func TestBannerBeforeTheDumpIsSkippedAndReported(t *testing.T) {
	for kind, file := range dumpFiles {
		t.Run(string(kind), func(t *testing.T) {
			b, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var plain, withBanner trace.DataplaneInput
			if err := ParseDump(kind, "dump", b, &plain); err != nil {
				t.Fatalf("the dump alone: %v", err)
			}
			if err := ParseDump(kind, "dump", append([]byte(banner), b...), &withBanner); err != nil {
				t.Fatalf("with the banner: %v", err)
			}
			want := []trace.SkippedLines{{Flag: string(kind), File: "dump", Lines: []string{
				"Creating debugging pod node-debugger-node-1-x7k2p with container debugger on node node-1.",
				"If you don't see a command prompt, try pressing enter."}}}
			if !slices.EqualFunc(withBanner.Skipped, want, func(a, b trace.SkippedLines) bool {
				return a.Flag == b.Flag && a.File == b.File && slices.Equal(a.Lines, b.Lines)
			}) {
				t.Errorf("skipped %+v, want %+v", withBanner.Skipped, want)
			}
			if len(plain.Skipped) != 0 {
				t.Errorf("a dump without banner reports skipped lines: %+v", plain.Skipped)
			}
			if withBanner.IPTablesSavedAt != plain.IPTablesSavedAt {
				t.Errorf("saved time %q, want %q as without the banner", withBanner.IPTablesSavedAt, plain.IPTablesSavedAt)
			}
		})
	}
}

// TestSkippedLinesKeepLineNumbers checks rules keep the line they have in
// the file, banner included, so the trace's line numbers can be looked up.
func TestSkippedLinesKeepLineNumbers(t *testing.T) {
	b, err := os.ReadFile(dumpFiles[IPTablesSave])
	if err != nil {
		t.Fatal(err)
	}
	file := append([]byte(banner), b...)
	var d trace.DataplaneInput
	if err := ParseDump(IPTablesSave, "dump", file, &d); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(file), "\n")
	checked := 0
	for _, tbl := range d.IPTables.Tables {
		for _, c := range tbl.Chains {
			for _, r := range c.Rules {
				if !strings.HasPrefix(lines[r.Line-1], "-A "+c.Name+" ") {
					t.Fatalf("rule of %s at line %d, but that line is %q", c.Name, r.Line, lines[r.Line-1])
				}
				checked++
			}
		}
	}
	if checked == 0 {
		t.Fatal("no rule checked")
	}
}

// TestUnrecognisedDumpStillFails checks a file with no line that starts a
// dump is refused by the parser as before, not read as empty.
func TestUnrecognisedDumpStillFails(t *testing.T) {
	for kind := range dumpFiles {
		var d trace.DataplaneInput
		if err := ParseDump(kind, filepath.Join("x", "dump"), []byte(banner), &d); err == nil {
			t.Errorf("%s: only a banner was read without error: %+v", kind, d)
		}
	}
}

// The header's ctime is read as UTC, with one- and two-digit days.
func TestHeaderTime(t *testing.T) {
	for in, want := range map[string]string{
		"Wed Nov 25 14:24:01 2026": "2026-11-25T14:24:01Z",
		"Fri Dec  4 09:05:00 2026": "2026-12-04T09:05:00Z",
	} {
		got, ok := headerTime(in)
		if !ok || got.Format(time.RFC3339) != want {
			t.Errorf("headerTime(%q) = %v, %v; want %s", in, got, ok, want)
		}
	}
	if _, ok := headerTime("yesterday"); ok {
		t.Error("a header without a time read as one")
	}
}
