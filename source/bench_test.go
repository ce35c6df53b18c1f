package source

import (
	"context"
	"os"
	"strconv"
	"testing"

	"github.com/svctrace/kubectl-svctrace/internal/gendump"
)

// BenchmarkLoad reads what one trace needs from a generated dump of
// $SVCTRACE_BENCH_SERVICES Services x 10 pods (default 1,000), YAML and
// JSON, plain and gzip. The whole command against dump size, with its peak
// memory, is measured by hack/bench-scale.sh (docs/performance.md).
func BenchmarkLoad(b *testing.B) {
	n := 1000
	if s := os.Getenv("SVCTRACE_BENCH_SERVICES"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil {
			b.Fatalf("SVCTRACE_BENCH_SERVICES=%q: %v", s, err)
		}
	}
	o := gendump.Options{Services: n}
	want := Want{Namespace: o.Namespace(n / 2), Service: gendump.Name(n / 2)}
	dir := b.TempDir()
	for _, f := range []gendump.Format{{}, {Gzip: true}, {JSON: true}, {JSON: true, Gzip: true}} {
		p := writeDump(b, dir, o, f)
		b.Run(f.Ext()[1:], func(b *testing.B) {
			info, err := os.Stat(p)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(info.Size())
			for b.Loop() {
				s, err := Load(context.Background(), []string{p}, nil, "default", want)
				if err != nil {
					b.Fatal(err)
				}
				if s.Len() == 0 {
					b.Fatal("nothing loaded")
				}
			}
		})
	}
}
