package iptables

import (
	"fmt"
	"net/netip"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/svctrace/kubectl-svctrace/dataplane"
)

// benchServices and benchEndpoints size the synthetic cluster: 10,000
// Services with 10 endpoints each, about 430,000 lines of rules.
const (
	benchServices  = 10000
	benchEndpoints = 10
)

var benchDump = sync.OnceValue(func() string {
	svcs := make([]synthSvc, benchServices)
	for i := range svcs {
		eps := make([]string, benchEndpoints)
		for j := range eps {
			eps[j] = fmt.Sprintf("10.%d.%d.%d:8080", 128+i/256%64, i%256, j+1)
		}
		svcs[i] = synthSvc{
			portName:  fmt.Sprintf("ns%d/svc%d:http", i%50, i),
			clusterIP: fmt.Sprintf("172.%d.%d.%d", 16+i/65536, i/256%256, i%256),
			port:      80, endpoints: eps,
		}
	}
	return synthDump(svcs)
})

var benchParsed = sync.OnceValues(func() (*Dump, error) { return Parse(benchDump()) })

// BenchmarkParse parses and indexes the whole dump; heap-MB is the live
// heap the parsed dump holds.
func BenchmarkParse(b *testing.B) {
	text := benchDump()
	b.ReportAllocs()
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		if _, err := Parse(text); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	d, _ := Parse(text)
	runtime.GC()
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/(1<<20), "heap-MB")
	b.ReportMetric(float64(d.Lines()), "lines")
	runtime.KeepAlive(d)
}

// BenchmarkWalk walks one packet to a Service in the middle of
// KUBE-SERVICES, so about 5,000 rules are evaluated before the hit.
func BenchmarkWalk(b *testing.B) {
	d, err := benchParsed()
	if err != nil {
		b.Fatal(err)
	}
	i := benchServices / 2
	p := Packet{Proto: "tcp", Src: netip.MustParseAddr("10.0.0.5"),
		Dst: netip.MustParseAddr(fmt.Sprintf("172.%d.%d.%d", 16+i/65536, i/256%256, i%256)), DstPort: 80}
	n := Node{LocalAddrs: []netip.Addr{netip.MustParseAddr("192.168.0.2")}}
	b.ReportAllocs()
	for b.Loop() {
		res, err := Walk(d, p, dataplane.EntryPod, n)
		if err != nil || len(res.Outcomes) != benchEndpoints {
			b.Fatalf("%v: %d outcomes", err, len(res.Outcomes))
		}
	}
}

// BenchmarkDrift compares one Service of the big dump with its expected
// rules.
func BenchmarkDrift(b *testing.B) {
	d, err := benchParsed()
	if err != nil {
		b.Fatal(err)
	}
	i := benchServices / 2
	name := fmt.Sprintf("ns%d/svc%d:http", i%50, i)
	exp := expectedFor(b, d, name)
	svc := Service{PortNames: []string{name}}
	b.ReportAllocs()
	for b.Loop() {
		if diffs := Drift(exp, d, svc); len(diffs) != 0 {
			b.Fatalf("unexpected differences: %v", diffs)
		}
	}
}

// expectedFor cuts the Service's own rules out of the big dump, as the
// expected package would render them.
func expectedFor(b *testing.B, d *Dump, portName string) *Dump {
	var chains, rules strings.Builder
	chains.WriteString("*nat\n:KUBE-SERVICES - [0:0]\n")
	for _, r := range d.RulesForService(portName) {
		if strings.HasPrefix(r.Chain, "KUBE-SVC-") || strings.HasPrefix(r.Chain, "KUBE-SEP-") {
			if len(d.Chain("nat", r.Chain).Rules) > 0 && d.Chain("nat", r.Chain).Rules[0] == r {
				chains.WriteString(":" + r.Chain + " - [0:0]\n")
			}
		}
		rules.WriteString(r.Text + "\n")
	}
	exp, err := Parse(chains.String() + rules.String() + "COMMIT\n")
	if err != nil {
		b.Fatal(err)
	}
	return exp
}
