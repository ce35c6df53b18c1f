package iptables

import (
	"fmt"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"

	"github.com/svctrace/kubectl-svctrace/dataplane/iptables/expected"
)

// TestBuildFromEqualsBuild changes a cluster step by step (endpoints
// moved, added and removed, a Service added and removed, one going without
// endpoints, enough endpoints for the large-cluster mode and back, another
// node) and wants, in both layouts, each state BuildFrom makes from the
// last to equal Build's, and the partial sync planned from it (which
// compares only the chains BuildFrom says changed) to write the same
// restore input as one comparing every chain.
func TestBuildFromEqualsBuild(t *testing.T) {
	for _, l := range []Layout{Replace, Scoped} {
		t.Run(l.Prefix+"layout", func(t *testing.T) {
			w := threeServices()
			for i := range 20 {
				w.add(fmt.Sprintf("svc-%d", i), fmt.Sprintf("10.96.1.%d", i+1), 0, fmt.Sprintf("10.245.%d.1", i), fmt.Sprintf("10.245.%d.2", i))
			}
			many := make([]string, 1001)
			for i := range many {
				many[i] = fmt.Sprintf("10.246.%d.%d", i/250, i%250+1)
			}
			node := testNode
			steps := []struct {
				name   string
				change func()
			}{
				{"first", func() {}},
				{"nothing changed", func() {}},
				{"an endpoint moved", func() { w.setEndpoints("svc-3", "10.245.3.1", "10.245.3.9") }},
				{"an endpoint added", func() { w.setEndpoints("web", "10.244.1.1", "10.244.1.2", "10.244.2.3", "10.244.2.4") }},
				{"endpoints gone", func() { w.setEndpoints("api") }},
				{"a Service added", func() { w.add("new", "10.96.2.1", 30081, "10.244.3.1") }},
				{"a Service removed", func() {
					w.services = slices.DeleteFunc(w.services, func(s *corev1.Service) bool { return s.Name == "svc-7" })
				}},
				{"a Service's ports changed", func() {
					w.services[0] = w.services[0].DeepCopy()
					w.services[0].Spec.Ports[0].Port = 8080
				}},
				{"into the large-cluster mode", func() { w.setEndpoints("svc-1", many...) }},
				{"out of it", func() { w.setEndpoints("svc-1", "10.245.1.1") }},
				{"another node", func() { node.NFAcct = true }},
			}
			// The state is built from parts alone, as Mode does, and
			// compared with Build's from a whole rule set.
			var gen expected.Cache
			parts := expected.Cache{PartsOnly: true}
			var prev, last *Desired
			p := New(nil, l)
			for _, st := range steps {
				st.change()
				rs, err := gen.Generate(node, w.services, w.slices)
				if err != nil {
					t.Fatal(err)
				}
				prs, err := parts.Generate(node, w.services, w.slices)
				if err != nil {
					t.Fatal(err)
				}
				if prs.NAT != nil {
					t.Fatal("PartsOnly rule set holds NAT rules")
				}
				got := BuildFrom(last, prs, l)
				want := Build(rs, l)
				if d := cmp.Diff(want.order, got.order, cmp.AllowUnexported(ref{})); d != "" {
					t.Errorf("%s: chain order (-Build +BuildFrom):\n%s", st.name, d)
				}
				if d := cmp.Diff(want.rules, got.rules, cmp.AllowUnexported(ref{})); d != "" {
					t.Errorf("%s: rules (-Build +BuildFrom):\n%s", st.name, d)
				}
				if !cmp.Equal(want.jumps, got.jumps) || !cmp.Equal(want.ensured, got.ensured, cmp.AllowUnexported(ref{})) {
					t.Errorf("%s: jumps or ensured chains differ", st.name)
				}
				if prev != nil {
					whole, part := newPlan(), newPlan()
					p.diff(whole, prev, want)
					p.diff(part, prev, got)
					if a, b := string(whole.input(tables)), string(part.input(tables)); a != b {
						t.Errorf("%s: partial sync input\n%s\nwant (every chain compared)\n%s", st.name, b, a)
					}
				}
				prev, last = got, got
			}
		})
	}
}
