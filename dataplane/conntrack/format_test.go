package conntrack

import (
	"net/netip"
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// TestFormatRoundTrip: what Format writes, Parse reads back as the same
// entries, for the real conntrack -L listings of testdata.
func TestFormatRoundTrip(t *testing.T) {
	for _, name := range []string{"after-pod-replacement.txt", "extended.txt"} {
		data, err := os.ReadFile("testdata/" + name)
		if err != nil {
			t.Fatal(err)
		}
		want, err := Parse(data)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Parse([]byte(Format(want)))
		if err != nil {
			t.Fatalf("%s: Format's output does not parse: %v\n%s", name, err, Format(want))
		}
		opts := cmp.Options{cmpopts.IgnoreFields(Entry{}, "Line"), cmpopts.EquateComparable(netip.Addr{})}
		if d := cmp.Diff(want, got, opts); d != "" {
			t.Errorf("%s: round trip (-parsed +formatted and parsed):\n%s", name, d)
		}
	}
}
