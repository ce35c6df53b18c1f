package ipvs

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// What FormatList prints, ParseList reads back as the same table, the
// connection counts included.
func TestFormatListRoundTrip(t *testing.T) {
	for _, name := range []string{"ipvsadm-variety.list.txt", "ipvsadm-kubeproxy.list.txt", "ipvsadm-conns.list.txt"} {
		raw, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		want, err := ParseList(raw)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got, err := ParseList([]byte(FormatList(want)))
		if err != nil {
			t.Fatalf("%s: FormatList's output does not parse: %v\n%s", name, err, FormatList(want))
		}
		if d := cmp.Diff(want, got, addrs); d != "" {
			t.Errorf("%s: round trip (-want +got):\n%s", name, d)
		}
	}
}
