package nftables

import (
	"reflect"
	"slices"
	"sort"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"

	"github.com/svctrace/kubectl-svctrace/dataplane"
)

// sameAsExpect wants c's expectation for the input to be Expect's, object
// for object.
func sameAsExpect(t *testing.T, step string, c *ExpectCache, n dataplane.Node, objs dataplane.Objects) {
	t.Helper()
	want, err := Proxier{}.Expect(n, objs)
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.Expect(Proxier{}, n, objs)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Services, want.Services) || !reflect.DeepEqual(got.Skipped, want.Skipped) {
		t.Errorf("%s: cached expectation differs from Expect's", step)
	}
	if g, w := got.Objects(), want.Objects(); !reflect.DeepEqual(g, w) {
		t.Errorf("%s: cached table has %d objects, Expect's %d, or they differ", step, len(g), len(w))
	}
}

// A cluster changing step by step (a slice replaced, a Service replaced,
// one removed, the node's zone changed) is expected through one cache
// exactly as Expect expects it.
func TestExpectCacheExpectsAsExpect(t *testing.T) {
	fx := fixtureServices()
	names := make([]string, 0, len(fx))
	for k := range fx {
		names = append(names, k)
	}
	sort.Strings(names)
	var objs dataplane.Objects
	for _, k := range names {
		objs.Services = append(objs.Services, fx[k].svc)
		objs.Slices = append(objs.Slices, fx[k].eps...)
	}
	n := dataplane.Node{Name: testNode}
	c := &ExpectCache{}
	sameAsExpect(t, "first", c, n, objs)
	sameAsExpect(t, "unchanged", c, n, objs)

	i := slices.IndexFunc(objs.Slices, func(s *discoveryv1.EndpointSlice) bool { return s.Namespace == "ns7" })
	objs.Slices = slices.Clone(objs.Slices)
	objs.Slices[i] = slice("ns7", "svc7", "dns", corev1.ProtocolUDP, 53, ep{"10.180.0.10", "other-node", true})
	sameAsExpect(t, "a slice replaced", c, n, objs)

	objs.Services = slices.Clone(objs.Services)
	objs.Services[0] = svc("ns1", "svc1", func(s *corev1.Service) { s.Spec.ClusterIP = "172.30.0.141" })
	sameAsExpect(t, "a Service replaced", c, n, objs)

	objs.Services = objs.Services[1:]
	sameAsExpect(t, "a Service removed", c, n, objs)
	objs.Services = append(objs.Services, fx["ns1/svc1"].svc)
	sameAsExpect(t, "a Service back", c, n, objs)

	n.Zone = "zone-b"
	sameAsExpect(t, "the node's zone changed", c, n, objs)
}
