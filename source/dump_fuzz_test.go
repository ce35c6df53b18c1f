package source

import (
	"os"
	"strings"
	"testing"

	"github.com/svctrace/kubectl-svctrace/trace"
)

var fuzzKinds = []DumpKind{IPTablesSave, IP6TablesSave, NFTJSON, IPVSList, IPVSAddrs, Conntrack}

// FuzzParseDump feeds arbitrary text to every dump reader as the command
// does (skipping a preamble first), with or without kubectl debug's
// banner in front: an error or a view, never a panic, and a skipped line
// is never one that starts the dump.
func FuzzParseDump(f *testing.F) {
	for i, k := range fuzzKinds {
		if b, err := os.ReadFile(dumpFiles[k]); err == nil {
			f.Add(uint8(i), string(b[:min(len(b), 4000)]))
		}
	}
	f.Add(uint8(0), "noise\n*nat\n:KUBE-SERVICES - [0:0]\nCOMMIT\n")
	f.Add(uint8(4), "conntrack v1.4.7 (conntrack-tools): 0 flow entries have been shown.\n")
	f.Fuzz(func(t *testing.T, k uint8, text string) {
		kind := fuzzKinds[int(k)%len(fuzzKinds)]
		for _, in := range []string{text, banner + text} {
			var d trace.DataplaneInput
			if err := ParseDump(kind, "fuzz", []byte(in), &d); err != nil {
				if !strings.Contains(err.Error(), "fuzz") {
					t.Fatalf("error does not name the dump: %v", err)
				}
				continue
			}
			for _, s := range d.Skipped {
				for _, l := range s.Lines {
					if l == "" || contentStart[kind](l) {
						t.Fatalf("skipped line %q of %s", l, kind)
					}
				}
			}
		}
	})
}
