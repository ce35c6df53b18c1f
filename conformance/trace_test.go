package conformance

import (
	"context"
	"fmt"
	"math"
	"net"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/svctrace/kubectl-svctrace/dataplane"
	"github.com/svctrace/kubectl-svctrace/harness"
	"github.com/svctrace/kubectl-svctrace/source"
	"github.com/svctrace/kubectl-svctrace/trace"
)

// traceOf reads Service namespace/name from the live cluster as the CLI
// does, and traces it through dp, the node's dump.
func traceOf(ctx context.Context, t *testing.T, c *harness.Cluster, name string, dp trace.DataplaneInput) (*trace.Input, *trace.Trace) {
	t.Helper()
	in, err := source.Fetcher{Client: source.API(c.Client)}.Fetch(ctx, namespace, name)
	if err != nil {
		t.Fatalf("fetch service %s/%s: %v", namespace, name, err)
	}
	// The node's facts are given, not inferred: a Service without pods
	// names no node, so the trace could not read the node's addresses.
	dp.Node, dp.NodeIPs = c.Node.Name, []netip.Addr{c.Node.IP}
	dp.ClusterCIDR = netip.MustParsePrefix(harness.ClusterCIDR)
	in.Dataplane = &dp
	return in, trace.Build(*in)
}

// dataplaneFindings keeps the findings of the dataplane hop: drift between
// the node's rules and what kube-proxy should have written.
func dataplaneFindings(tr *trace.Trace) []string {
	area := map[string]string{}
	for _, e := range trace.Catalog() {
		area[e.ID] = e.Area
	}
	var out []string
	for _, f := range tr.Findings {
		if area[f.ID] == "dataplane" {
			out = append(out, f.ID+": "+f.Message)
		}
	}
	return out
}

func hasFinding[K ~string](tr *trace.Trace, id K) bool {
	for _, f := range tr.Findings {
		if f.ID == string(id) {
			return true
		}
	}
	return false
}

// entry is the entry --from names (pod, node or external).
func entry(from string) dataplane.Entry {
	e, err := dataplane.ParseEntry(from)
	if err != nil {
		panic(err)
	}
	return e
}

// walkKey names one packet walk: the service port, where the packet
// enters and its destination.
type walkKey struct {
	port, from, dest string
}

func (k walkKey) String() string { return fmt.Sprintf("%s from %s to %s", k.port, k.from, k.dest) }

// outcomes maps each walk of tr to its outcomes: the DNAT target, or the
// verdict when nothing was translated, with its total probability. With
// ClientIP affinity the iptables walk adds, besides the spread a new client
// meets, one outcome per endpoint for a client already pinned to it (each
// certain under that assumption); those are kept apart under the key
// "sticky " + target, since they are not part of the distribution.
func outcomes(tr *trace.Trace) map[walkKey]map[string]float64 {
	out := map[walkKey]map[string]float64{}
	for k, w := range walks(tr) {
		got := map[string]float64{}
		for _, o := range w.Outcomes {
			target := o.Target
			if target == "" {
				target = string(o.Verdict)
			}
			if strings.Contains(o.Note, "already pinned") {
				target = "sticky " + target
			}
			got[target] += o.Probability
		}
		out[k] = got
	}
	return out
}

func walks(tr *trace.Trace) map[walkKey]dataplane.Walk {
	out := map[walkKey]dataplane.Walk{}
	for _, hop := range tr.Dataplane {
		for _, w := range hop.Walks {
			p := w.Packet
			out[walkKey{p.ServicePort, p.From.String(), p.DestString()}] = w
		}
	}
	return out
}

// describe lists a walk's outcomes with their paths and notes, for messages.
func describe(w dataplane.Walk) string {
	var b strings.Builder
	for _, o := range w.Outcomes {
		fmt.Fprintf(&b, "\n\t%s %s p=%.4f via %s", o.Verdict, o.Target, o.Probability, o.Path)
		if o.Note != "" {
			fmt.Fprintf(&b, " (%s)", o.Note)
		}
	}
	return b.String()
}

// wantOutcomes is what a packet entering from "pod" or "external" should
// meet according to the API objects alone: an even spread over the ready
// endpoints of the port (only node-local ones under a Local policy for that
// traffic), or a REJECT when there are none.
func wantOutcomes(in *trace.Input, node, from string, sticky bool) map[string]map[string]float64 {
	svc := in.Service
	local := svc.Spec.InternalTrafficPolicy != nil && *svc.Spec.InternalTrafficPolicy == corev1.ServiceInternalTrafficPolicyLocal
	if from == "external" {
		local = svc.Spec.ExternalTrafficPolicy == corev1.ServiceExternalTrafficPolicyLocal
	}
	out := map[string]map[string]float64{}
	for _, sp := range svc.Spec.Ports {
		label := svc.Namespace + "/" + svc.Name
		if sp.Name != "" {
			label += ":" + sp.Name
		}
		var targets []string
		for _, s := range in.EndpointSlices {
			for _, port := range s.Ports {
				if port.Name == nil || *port.Name != sp.Name || port.Port == nil {
					continue
				}
				for _, ep := range s.Endpoints {
					ready := ep.Conditions.Ready != nil && *ep.Conditions.Ready
					onNode := ep.NodeName != nil && *ep.NodeName == node
					if ready && (!local || onNode) {
						targets = append(targets, net.JoinHostPort(ep.Addresses[0], strconv.Itoa(int(*port.Port))))
					}
				}
			}
		}
		want := map[string]float64{}
		for _, tg := range targets {
			want[tg] = 1 / float64(len(targets))
			if sticky {
				want["sticky "+tg] = 1
			}
		}
		if len(targets) == 0 {
			want["REJECT"] = 1
		}
		out[label] = want
	}
	return out
}

// checkWalks compares every walk of tr entering from `from` with
// wantOutcomes and returns one line per disagreement. sticky says whether
// the walker reports pinned-client outcomes for ClientIP affinity.
func checkWalks(in *trace.Input, tr *trace.Trace, node, from string, sticky bool) []string {
	sticky = sticky && in.Service.Spec.SessionAffinity == corev1.ServiceAffinityClientIP
	want := wantOutcomes(in, node, from, sticky)
	var bad []string
	all := walks(tr)
	n := 0
	for k, got := range outcomes(tr) {
		if k.from != from {
			continue
		}
		n++
		if !sameOutcomes(got, want[k.port]) {
			bad = append(bad, fmt.Sprintf("walk %s: got %s, want %s; outcomes:%s", k, fmtOutcomes(got), fmtOutcomes(want[k.port]), describe(all[k])))
		}
	}
	if n == 0 {
		bad = append(bad, fmt.Sprintf("no packet walk from %s", from))
	}
	sort.Strings(bad)
	return bad
}

// sameOutcomes compares probabilities to within the kernel's rounding of
// the statistic match (steps of 2^-31) summed over a few rules.
func sameOutcomes(got, want map[string]float64) bool {
	if len(got) != len(want) {
		return false
	}
	for k, p := range want {
		if q, ok := got[k]; !ok || math.Abs(p-q) > 1e-6 {
			return false
		}
	}
	return true
}

func fmtOutcomes(m map[string]float64) string {
	var parts []string
	for k, p := range m {
		parts = append(parts, fmt.Sprintf("%s=%.4f", k, p))
	}
	sort.Strings(parts)
	return "{" + strings.Join(parts, " ") + "}"
}
