// Package proxy is the mini kube-proxy behind `kubectl-svctrace --serve`:
// it follows Services, EndpointSlices and its Node (from an API server or
// from files), and has a Mode program the node's dataplane from them with
// a bounded-frequency sync loop like kube-proxy's: changes are batched and
// synced at most once per minimum interval, and every sync period a full
// sync reads the dataplane back and repairs it.
package proxy

import (
	"context"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/svctrace/kubectl-svctrace/dataplane"
)

// Labels kube-proxy reads to decide which objects it serves.
const (
	LabelServiceProxyName = "service.kubernetes.io/service-proxy-name"
	LabelHeadless         = "service.kubernetes.io/headless"
	// ProxyName is the service-proxy-name value of the Services --serve
	// handles beside kube-proxy.
	ProxyName = dataplane.ServeProxyName
)

// Selector returns the label selector of the Services and EndpointSlices
// served: kube-proxy's own (no service-proxy-name label) when replacing it,
// else the Services labelled for svctrace. Headless slices never count.
func Selector(replace bool) labels.Selector {
	s := "!" + LabelServiceProxyName + ",!" + LabelHeadless
	if !replace {
		s = LabelServiceProxyName + "=" + ProxyName + ",!" + LabelHeadless
	}
	sel, err := labels.Parse(s)
	if err != nil {
		panic(fmt.Sprintf("selector %q: %v", s, err)) // constant input
	}
	return sel
}

// Objects is what a sync programs from.
type Objects struct {
	Services []*corev1.Service
	Slices   []*discoveryv1.EndpointSlice
	// Node is this node, nil when the source has not seen it.
	Node *corev1.Node
	// ServiceCIDRs are the cluster's ServiceCIDRs (nftables mode drops
	// traffic to their addresses no Service holds); nil when not read.
	ServiceCIDRs []netip.Prefix
}

// ServiceCIDRsOf reads the prefixes of ServiceCIDR objects; a prefix that
// does not parse is left out, as the API server never stores one.
func ServiceCIDRsOf(cidrs []*networkingv1.ServiceCIDR) []netip.Prefix {
	var out []netip.Prefix
	for _, c := range cidrs {
		for _, s := range c.Spec.CIDRs {
			if p, err := netip.ParsePrefix(s); err == nil {
				out = append(out, p)
			}
		}
	}
	return out
}

// Kind says what changed.
type Kind int

// What a Source reports.
const (
	ServiceChanged Kind = iota
	EndpointsChanged
	NodeChanged
)

// Source follows the objects and reports changes.
type Source interface {
	// Start begins following; it returns once the first full state is
	// known (informer caches synced, files read), then calls changed for
	// every later change until ctx ends.
	Start(ctx context.Context, changed func(Kind)) error
	// Objects returns the current state.
	Objects() Objects
}

// Mode programs one proxy mode's dataplane.
type Mode interface {
	// Name is the mode's --proxy-mode value.
	Name() string
	// Sync programs the dataplane for objs; full reads the dataplane back
	// and repairs it, otherwise only what changed since the last sync is
	// written. With dryRun nothing is written.
	Sync(ctx context.Context, objs Objects, full, dryRun bool) (Report, error)
	// Cleanup removes everything the mode owns, and nothing else.
	Cleanup(ctx context.Context, dryRun bool) (Report, error)
}

// Report says what a sync or cleanup did.
type Report struct {
	Full bool
	// Changes is the transaction written (iptables-restore input, nft
	// transaction, IPVS operations); empty when nothing changed.
	Changes string
	// Summary is one line for people.
	Summary string
	// Repairs counts what a full sync found wrong, by kind.
	Repairs map[string]int
	// FailedFamilies are the IP families ("IPv4", "IPv6") whose nftables
	// transaction failed, counted by family as kube-proxy does.
	FailedFamilies []string
}

// SyncLine is one sync's line for people: "full sync…" or "partial
// sync…" with what, then the repairs by kind, if any.
func SyncLine(full bool, what string, repairs map[string]int) string {
	kind := "partial"
	if full {
		kind = "full"
	}
	s := kind + " sync" + what
	if len(repairs) > 0 {
		var parts []string
		for _, k := range slices.Sorted(maps.Keys(repairs)) {
			parts = append(parts, fmt.Sprintf("%s=%d", k, repairs[k]))
		}
		s += "; repairs " + strings.Join(parts, " ")
	}
	return s
}

func (r Report) String() string {
	if r.Summary != "" {
		return r.Summary
	}
	return strings.TrimSpace(r.Changes)
}
