package nftables

import (
	"slices"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"

	"github.com/svctrace/kubectl-svctrace/dataplane"
)

// ExpectCache computes as Proxier.Expect does, keeping each Service's
// expectation from one call to the next: a Service whose object and
// EndpointSlices are the same objects as last time (an informer's cache
// hands unchanged objects out again) is not computed again, so a sync
// after one endpoint change computes one Service instead of thousands.
// The result equals Expect's; the ExpectedServices of unchanged Services
// are shared between results and must not be modified. An ExpectCache is
// not safe for concurrent use.
type ExpectCache struct {
	opts     ExpectOptions
	services map[serviceKey]*cachedService
	// seen are the Services of the call under way; the others are
	// forgotten when it ends.
	seen map[serviceKey]*cachedService
}

type cachedService struct {
	svc    *corev1.Service
	slices []*discoveryv1.EndpointSlice
	exp    *ExpectedService
}

// Expect returns what p.Expect(n, objs) returns.
func (c *ExpectCache) Expect(p Proxier, n dataplane.Node, objs dataplane.Objects) (*Want, error) {
	return p.expect(n, objs, c)
}

// begin starts a call for a node of opts; a node that changed (its name,
// zone, cluster CIDR) invalidates every Service.
func (c *ExpectCache) begin(opts ExpectOptions) {
	if c.services == nil || c.opts != opts {
		c.opts, c.services = opts, map[serviceKey]*cachedService{}
	}
	c.seen = make(map[serviceKey]*cachedService, len(c.services))
}

// end keeps only the Services of the call that ends.
func (c *ExpectCache) end() { c.services, c.seen = c.seen, nil }

// expected is Expected(svc, own, opts), from the cache when svc and own
// are the objects it was computed from. A nil cache computes it.
func (c *ExpectCache) expected(svc *corev1.Service, own []*discoveryv1.EndpointSlice, opts ExpectOptions) (*ExpectedService, error) {
	if c == nil {
		return Expected(svc, own, opts)
	}
	k := serviceKey{svc.Namespace, svc.Name}
	if e := c.services[k]; e != nil && e.svc == svc && slices.Equal(e.slices, own) {
		c.seen[k] = e
		return e.exp, nil
	}
	exp, err := Expected(svc, own, opts)
	if err != nil {
		return nil, err
	}
	c.seen[k] = &cachedService{svc: svc, slices: own, exp: exp}
	return exp, nil
}
