package iptables

import (
	"fmt"
	"slices"
	"testing"

	"github.com/svctrace/kubectl-svctrace/kernel/iptables/iptablestest"
	"github.com/svctrace/kubectl-svctrace/proxy"
)

// bigWorld is the size kube-proxy's measured syncs used: 2,000 Services
// with 10 endpoints each.
func bigWorld() *world {
	w := &world{}
	for i := 0; i < 2000; i++ {
		eps := make([]string, 10)
		for j := range eps {
			eps[j] = fmt.Sprintf("10.%d.%d.%d", 100+i/250, i%250, j+1)
		}
		w.add(fmt.Sprintf("svc-%d", i), fmt.Sprintf("10.96.%d.%d", i/250, i%250+1), 0, eps...)
	}
	return w
}

// BenchmarkPartialSyncOneEndpoint measures a partial sync after one
// endpoint of one Service changed, and reports the size of the
// iptables-restore input it writes (kube-proxy's partial sync writes every
// shared chain whole).
func BenchmarkPartialSyncOneEndpoint(b *testing.B) {
	w := bigWorld()
	f := iptablestest.New()
	p := New(f, Replace)
	d0 := w.desired(b, Replace)
	if _, err := p.Sync(b.Context(), d0, false, false); err != nil {
		b.Fatal(err)
	}
	w.setEndpoints("svc-7", "10.200.0.1", "10.200.0.2")
	d1 := w.desired(b, Replace)
	var res Result
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p.last = d0
		var err error
		if res, err = p.Sync(b.Context(), d1, false, true); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(res.Input)), "input-bytes")
	b.ReportMetric(float64(res.Lines), "input-lines")
	b.ReportMetric(float64(kubeProxyPartialLines(d1, "svc-7")), "kube-proxy-partial-lines")
}

// kubeProxyPartialLines counts the rule lines kube-proxy's partial sync
// (KEP-3453) writes for the same change: every shared chain whole, plus the
// changed Service's own chains.
func kubeProxyPartialLines(d *Desired, service string) int {
	own := map[string]bool{}
	for _, sp := range d.Ruleset.Services {
		if sp.Service == service {
			for _, c := range sp.OwnChains() {
				own[c] = true
			}
		}
	}
	n := 0
	for _, r := range d.order {
		if own[r.chain] || !Replace.perService(r.chain) {
			n += len(d.rules[r])
		}
	}
	return n
}

// BenchmarkFullResyncUnchanged measures a full sync that reads back an
// untouched kernel and finds nothing to write. The fake prints rules in
// the restore input's spelling, so every rule read back is normalized
// again; a kernel prints them normalized and skips that cost, so this is
// an upper bound of the Go side (iptables-save itself is not included).
func BenchmarkFullResyncUnchanged(b *testing.B) {
	w := bigWorld()
	f := iptablestest.New()
	p := New(f, Replace)
	d := w.desired(b, Replace)
	if _, err := p.Sync(b.Context(), d, false, false); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res, err := p.Sync(b.Context(), d, true, true)
		if err != nil || res.Input != "" {
			b.Fatalf("%v %s\n%s", err, res, res.Input)
		}
	}
}

// BenchmarkModePartialSync measures what --serve does after one endpoint
// change at 2,000 Services x 10 endpoints: generate the rules from every
// object, build the desired state, diff it with the last sync and write the
// difference (to the in-memory fake).
func BenchmarkModePartialSync(b *testing.B) {
	w := bigWorld()
	m := NewMode(iptablestest.New(), Replace, testNode)
	before := proxy.Objects{Services: w.services, Slices: slices.Clone(w.slices)}
	if _, err := m.Sync(b.Context(), before, true, false); err != nil {
		b.Fatal(err)
	}
	w.setEndpoints("svc-7", "10.200.0.1", "10.200.0.2")
	after := proxy.Objects{Services: w.services, Slices: w.slices}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		objs := after
		if i%2 == 1 {
			objs = before
		}
		if _, err := m.Sync(b.Context(), objs, false, false); err != nil {
			b.Fatal(err)
		}
	}
}
