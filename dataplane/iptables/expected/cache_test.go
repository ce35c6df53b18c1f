package expected

import (
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
)

// sameAsGenerate wants c's rule set for the input to be Generate's, rule
// for rule (restore input and iptables-save form), service port for
// service port, warning for warning.
func sameAsGenerate(t *testing.T, step string, c *Cache, node Node, svcs []*corev1.Service, eps []*discoveryv1.EndpointSlice) {
	t.Helper()
	want, err := Generate(node, svcs, eps)
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.Generate(node, svcs, eps)
	if err != nil {
		t.Fatal(err)
	}
	wantSave, _ := want.Save()
	gotSave, _ := got.Save()
	if got.RestoreInput() != want.RestoreInput() || gotSave != wantSave {
		t.Errorf("%s: cached rules differ from Generate's:\n%s\nwant:\n%s", step, got.RestoreInput(), want.RestoreInput())
	}
	if got.LargeCluster != want.LargeCluster || !slices.Equal(got.Warnings, want.Warnings) || len(got.Services) != len(want.Services) {
		t.Errorf("%s: large %v warnings %q ports %d, want %v %q %d", step, got.LargeCluster, got.Warnings, len(got.Services), want.LargeCluster, want.Warnings, len(want.Services))
	}
	var nat, filter []Rule
	var chains []string
	for _, p := range append(append([]*Part{got.Head}, got.Parts...), got.Tail) {
		nat, filter, chains = append(nat, p.NAT...), append(filter, p.Filter...), append(chains, p.NATChains...)
	}
	if !slices.Equal(nat, got.NAT) || !slices.Equal(filter, got.Filter) || !slices.Equal(chains, got.NATChains) {
		t.Errorf("%s: Head, Parts and Tail do not add up to the rule set", step)
	}
	partsOnly := &Cache{PartsOnly: true}
	po, err := partsOnly.Generate(node, svcs, eps)
	if err != nil {
		t.Fatal(err)
	}
	if po.NAT != nil || po.Flat().RestoreInput() != want.RestoreInput() {
		t.Errorf("%s: a PartsOnly rule set, flattened, differs from Generate's:\n%s", step, po.Flat().RestoreInput())
	}
	for i, sp := range want.Services {
		if i < len(got.Services) && (got.Services[i].String() != sp.String() || got.Services[i].HasEndpoints != sp.HasEndpoints ||
			got.ServicePort(sp.Namespace, sp.Service, sp.PortName, sp.Protocol) == nil) {
			t.Errorf("%s: service port %d is %s, want %s", step, i, got.Services[i], sp)
		}
	}
}

// Every scenario, and a cluster changing step by step (endpoints added
// until it crosses into large-cluster mode and back, a slice replaced, a
// Service removed), generate through one Cache exactly as Generate does.
func TestCacheGeneratesAsGenerate(t *testing.T) {
	for _, sc := range scenarios() {
		c := &Cache{}
		sameAsGenerate(t, sc.name, c, sc.node, sc.services, sc.slices)
		sameAsGenerate(t, sc.name+" again", c, sc.node, sc.services, sc.slices)
	}
	c := &Cache{}
	node := upstreamNode()
	sameAsGenerate(t, "overall", c, node, overallServices(), overallSlices())
	sameAsGenerate(t, "repeated", c, node, repeatedServices(), repeatedSlices())
	sameAsGenerate(t, "bad IPs", c, node, badIPServices(), badIPSlices())

	svcs, small := largeClusterInput(false)
	_, withThird := largeClusterInput(true)
	large := append(slices.Clone(small), withThird[2]) // the same objects and one more
	sameAsGenerate(t, "under the large-cluster threshold", c, node, svcs, small)
	sameAsGenerate(t, "over it", c, node, svcs, large)
	sameAsGenerate(t, "under it again", c, node, svcs, small)
	moved := slices.Clone(small)
	moved[1] = moved[1].DeepCopy()
	moved[1].Endpoints = moved[1].Endpoints[1:]
	sameAsGenerate(t, "one slice replaced", c, node, svcs, moved)
	sameAsGenerate(t, "a Service removed", c, node, svcs[1:], moved)
	other := node
	other.NFAcct = false
	sameAsGenerate(t, "another node", c, other, svcs[1:], moved)
}

// After one slice changes, only its Service is generated again.
func TestCacheKeepsUnchangedServices(t *testing.T) {
	svcs, eps := largeClusterInput(true)
	c := &Cache{}
	if _, err := c.Generate(upstreamNode(), svcs, eps); err != nil {
		t.Fatal(err)
	}
	before := map[serviceKey]*generated{}
	for k, e := range c.services {
		before[k] = e
	}
	eps = slices.Clone(eps)
	eps[2] = eps[2].DeepCopy()
	if _, err := c.Generate(upstreamNode(), svcs, eps); err != nil {
		t.Fatal(err)
	}
	for k, e := range c.services {
		if changed := k.name == "svc3"; (e != before[k]) != changed {
			t.Errorf("%s generated again: %v, want %v", k.name, e != before[k], changed)
		}
	}
}

// Parts keep their identity while their Service is unchanged: the same
// *Part comes back, and a changed Service's part is a new one.
func TestCachePartsKeepTheirIdentity(t *testing.T) {
	svcs, eps := largeClusterInput(true)
	c := &Cache{}
	first, err := c.Generate(upstreamNode(), svcs, eps)
	if err != nil {
		t.Fatal(err)
	}
	eps = slices.Clone(eps)
	eps[2] = eps[2].DeepCopy()
	second, err := c.Generate(upstreamNode(), svcs, eps)
	if err != nil {
		t.Fatal(err)
	}
	if len(first.Parts) != len(svcs) || len(second.Parts) != len(first.Parts) {
		t.Fatalf("parts: %d then %d, want one per Service (%d)", len(first.Parts), len(second.Parts), len(svcs))
	}
	changed := 0
	for i := range first.Parts {
		if first.Parts[i] != second.Parts[i] {
			changed++
		}
	}
	if changed != 1 {
		t.Errorf("%d parts changed after one slice changed, want 1", changed)
	}
}
