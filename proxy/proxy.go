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
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
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
}

func (r Report) String() string {
	if r.Summary != "" {
		return r.Summary
	}
	return strings.TrimSpace(r.Changes)
}
