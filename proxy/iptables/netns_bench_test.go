//go:build linux

package iptables

import (
	"testing"
	"time"

	"github.com/svctrace/kubectl-svctrace/internal/netnstest"
	kiptables "github.com/svctrace/kubectl-svctrace/kernel/iptables"
)

// BenchmarkRealSyncs programs 2,000 Services x 10 endpoints into real
// iptables (the nf_tables backend) in a private namespace in kube-proxy's
// layout, and reports the initial full write, a full resync that finds
// nothing to repair (iptables-save and compare), and a partial sync after
// one endpoint change.
func BenchmarkRealSyncs(b *testing.B) {
	netnstest.Require(b, "ip", "iptables-nft-restore")
	w := bigWorld()
	d0 := w.desired(b, Replace)
	w.setEndpoints("svc-7", "10.200.0.1", "10.200.0.2")
	d1 := w.desired(b, Replace)
	for i := 0; i < b.N; i++ {
		ns := netnstest.New(b, "bench")
		netnstest.Do(b, ns, func() {
			ipt, err := kiptables.New(b.Context(), kiptables.Options{Backend: kiptables.BackendNFT})
			if err != nil {
				b.Fatal(err)
			}
			p := New(ipt, Replace)
			report := func(name string, d *Desired, full bool) {
				start := time.Now()
				res, err := p.Sync(b.Context(), d, full, false)
				if err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(time.Since(start).Seconds(), name+"-s")
				b.ReportMetric(float64(res.Lines), name+"-lines")
			}
			report("first-full", d0, true)
			report("resync", d0, true)
			report("partial", d1, false)
		})
	}
}
