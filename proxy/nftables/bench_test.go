package nftables

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/knftables"

	model "github.com/svctrace/kubectl-svctrace/dataplane/nftables"

	"github.com/svctrace/kubectl-svctrace/internal/netnstest"
	knft "github.com/svctrace/kubectl-svctrace/kernel/nftables"
)

// bigWorld is the size kube-proxy's measured syncs used: 2,000 Services
// with 10 endpoints each, in kube-proxy's layout.
func bigWorld() *world {
	w := &world{}
	for i := 0; i < 2000; i++ {
		eps := make([]string, 10)
		for j := range eps {
			eps[j] = fmt.Sprintf("10.%d.%d.%d", 100+i/250, i%250, j+1)
		}
		w.addFor("", fmt.Sprintf("svc-%d", i), fmt.Sprintf("10.96.%d.%d", i/250, i%250+1), 0, eps...)
	}
	return w
}

// BenchmarkPartialSyncOneEndpoint measures planning the partial sync after
// one endpoint of one Service changed (dry run, in memory) and reports
// the operations its transaction holds and the objects of the table.
func BenchmarkPartialSyncOneEndpoint(b *testing.B) {
	w := bigWorld()
	fake := knftables.NewFake(knftables.IPv4Family, Replace.TableName())
	m := NewMode(Replace, testNode, []Kernel{{Family: knftables.IPv4Family, NFT: fake, Read: fakeReader(fake, knftables.IPv4Family)}})
	if _, err := m.Sync(b.Context(), w.objs, false, false); err != nil {
		b.Fatal(err)
	}
	first := m.progs[0].last
	w.setEndpoints("svc-7", "10.200.0.1", "10.200.0.2")
	var ops int
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m.progs[0].last = first
		rep, err := m.Sync(b.Context(), w.objs, false, true)
		if err != nil {
			b.Fatal(err)
		}
		ops = strings.Count(rep.Changes, "\n")
	}
	b.ReportMetric(float64(ops), "ops")
	b.ReportMetric(float64(len(first.objs)), "table-objects")
}

// BenchmarkRealSyncs programs 2,000 Services x 10 endpoints into the real
// nft in a private namespace in kube-proxy's layout, and reports the
// initial full write, a full resync that finds nothing to repair (nft -j
// list table, compare), and a partial sync after one endpoint change.
func BenchmarkRealSyncs(b *testing.B) {
	netnstest.Require(b, "ip", "nft")
	for i := 0; i < b.N; i++ {
		w := bigWorld()
		ns := netnstest.New(b, "nftbench")
		netnstest.Do(b, ns, func() {
			nft, err := knftables.New(knftables.IPv4Family, Replace.TableName())
			if err != nil {
				b.Fatal(err)
			}
			read := func(ctx context.Context) (*model.Table, error) {
				return knft.ListTable(ctx, knft.ExecRunner{}, "ip", Replace.TableName())
			}
			m := NewMode(Replace, testNode, []Kernel{{Family: knftables.IPv4Family, NFT: nft, Read: read}})
			report := func(name string, full bool, objs *world) {
				start := time.Now()
				rep, err := m.Sync(b.Context(), objs.objs, full, false)
				if err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(time.Since(start).Seconds(), name+"-s")
				b.ReportMetric(float64(strings.Count(rep.Changes, "\n")), name+"-ops")
			}
			report("first-full", true, w)
			report("resync", true, w)
			// The same objects but one slice, as the informers hand them
			// out after one endpoint change.
			w.setEndpoints("svc-7", "10.200.0.1", "10.200.0.2")
			report("partial", false, w)
		})
	}
}
