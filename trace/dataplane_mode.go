package trace

import (
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"

	"github.com/svctrace/kubectl-svctrace/dataplane"
	"github.com/svctrace/kubectl-svctrace/dataplane/iptables"
)

// prepared is one node view through one proxy mode, computed once: the
// expectation from the API objects, the node's state and their drift.
// Every entry's walks and the listings read it.
type prepared interface {
	hop() DataplaneHop
	diffs() []dataplane.Diff
	// olderLayout are the signs that the node's rules were written by an
	// older kube-proxy release; nil when they were not.
	olderLayout() []string
	// walks walks the packets of the view v (its entry and source).
	walks(v nodeView) ([]dataplane.Walk, error)
	listings() []dataplane.Listing
}

// modeRun is prepared for a mode whose expectation is W and state G.
type modeRun[W, G any] struct {
	m     dataplane.Proxier[W, G]
	want  W
	got   G
	drift []dataplane.Diff
	head  DataplaneHop
	// targets are the Service ports to walk and their addresses.
	targets []portTargets
	// older are the signs that the node's rules have an older release's
	// layout, which makes drift a comparison of walks.
	older []string
}

// prepare computes what a node view shows through m: got is the node's
// state when have is set, else the expectation materialized; targets
// picks the ports to walk from the expectation.
func prepare[W, G any](m dataplane.Proxier[W, G], got G, have bool, in Input, v nodeView, head DataplaneHop, targets func(W) []portTargets) (prepared, error) {
	want, err := m.Expect(v.node(), dataplane.Objects{Services: []*corev1.Service{in.Service}, Slices: slicePtrs(in.EndpointSlices)})
	if err != nil {
		return nil, err
	}
	r := &modeRun[W, G]{m: m, want: want, got: got, head: head, targets: targets(want)}
	if ol, ok := any(m).(olderLayout[G]); ok && have {
		r.older = ol.OlderLayout(got)
	}
	switch {
	case !have:
		if r.got, err = m.Materialize(want); err != nil {
			return nil, err
		}
	case in.unread(slicesResource):
		// The expected rules of a Service whose endpoints are unknown
		// say nothing about the node's.
	case len(r.older) > 0:
		if r.drift, err = behaviourDiffs(r, in, v); err != nil {
			return nil, err
		}
	default:
		r.drift = m.Drift(want, got)
	}
	return r, nil
}

func (r *modeRun[W, G]) hop() DataplaneHop             { return r.head }
func (r *modeRun[W, G]) diffs() []dataplane.Diff       { return r.drift }
func (r *modeRun[W, G]) olderLayout() []string         { return r.older }
func (r *modeRun[W, G]) listings() []dataplane.Listing { return r.m.Listings(r.want, r.got, r.drift) }

func (r *modeRun[W, G]) walks(v nodeView) ([]dataplane.Walk, error) {
	var out []dataplane.Walk
	for _, pt := range r.targets {
		for _, p := range packets(pt, v) {
			w, err := r.m.Walk(r.want, r.got, p)
			if err != nil {
				return nil, err
			}
			out = append(out, w)
		}
	}
	return out, nil
}

// node is the view's node as the modes take it.
func (v nodeView) node() dataplane.Node {
	flags := v.proxy
	flags.ClusterCIDR = v.clusterCIDR // given, or read from the dump, of the view's family
	return dataplane.Node{Name: v.name, Zone: v.zone, IPs: v.ips, Family: v.family, Flags: flags}
}

// generated are the targets of the generated iptables rules' ports selected
// by only, which hold the addresses of the proxier's IP family.
func generated(only string) func(*iptables.Want) []portTargets {
	return func(w *iptables.Want) []portTargets {
		var out []portTargets
		for _, sp := range w.Ruleset.Services {
			if portSelected(only, sp.PortName, sp.Port, sp.NodePort) {
				out = append(out, generatedTargets(sp))
			}
		}
		return out
	}
}

// fromService are the targets of the Service's ports selected by only,
// whatever the mode expects.
func fromService[W any](svc *corev1.Service, only string, family corev1.IPFamily) func(W) []portTargets {
	return func(W) []portTargets { return serviceTargets(svc, only, family) }
}

// diffFindings reports differences as findings, one per difference except
// that the shares of one iptables chain, which change together, are one.
func diffFindings(diffs []dataplane.Diff, svc string) []Finding {
	var out []Finding
	shares := map[string]int{} // chain → index in out of its ProbabilityMismatch
	for _, d := range diffs {
		id, msg := string(d.Kind), diffMessage(d)
		if d.Kind == iptables.ProbabilityMismatch {
			if i, ok := shares[d.Where.Chain]; ok {
				out[i].Message += "; " + diffDetail(d)
				continue
			}
			shares[d.Where.Chain] = len(out)
			msg = diffDetail(d)
		}
		where := d.Where
		out = append(out, Finding{ID: id, Severity: severityOf(id), Subject: diffSubject(d), Message: msg,
			Hint: dataplaneHint(id, svc), Where: &where})
	}
	return out
}

func slicePtrs(s []discoveryv1.EndpointSlice) []*discoveryv1.EndpointSlice {
	out := make([]*discoveryv1.EndpointSlice, len(s))
	for i := range s {
		out[i] = &s[i]
	}
	return out
}
