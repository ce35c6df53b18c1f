package ipvs

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse checks that no input makes the parsers panic, and that whatever
// parses prints to save form and reads back to the same text.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "ipvsadm-*.txt"))
	for _, name := range files {
		if data, err := os.ReadFile(name); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte("FWM  7 IPv6 sh (flag-3) persistent 5 mask 64 pe sip ops\n"))
	f.Add([]byte("5: kube-ipvs0: <NOARP>\n    inet 10.96.0.1/32 scope global kube-ipvs0\n    inet6 fd00::1/128 scope global\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if addrs, err := ParseLocal(data); err == nil {
			for _, a := range addrs {
				if !a.IsValid() {
					t.Fatalf("ParseLocal returned an invalid address from %q", data)
				}
			}
		}
		tbl, err := Parse(data)
		if err != nil {
			return
		}
		tbl.Sort()
		once := FormatSave(tbl)
		back, err := ParseSave([]byte(once))
		if err != nil {
			t.Fatalf("re-parse of printed table failed: %v\n%s", err, once)
		}
		back.Sort()
		if twice := FormatSave(back); twice != once {
			t.Fatalf("print/parse not stable:\n%s\n---\n%s", once, twice)
		}
	})
}
