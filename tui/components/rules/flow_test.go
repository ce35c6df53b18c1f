package rules

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/svctrace/kubectl-svctrace/dataplane"
)

// step is a nat step of a walk: on branch b, p the probability it
// carries, matched m, rule text r in chain c.
func step(b int, p float64, m bool, c, r string) dataplane.Step {
	return dataplane.Step{Table: "nat", Chain: c, Rule: r, Matched: m, Probability: p, Branch: b}
}

const (
	svcJump = "-A KUBE-SERVICES -d 10.96.0.150/32 -j KUBE-SVC-S"
	masq    = "-A KUBE-SVC-S ! -s 10.244.0.0/16 -j KUBE-MARK-MASQ"
	rc1     = "-A KUBE-SVC-S -m recent --name KUBE-SEP-1 --rcheck -j KUBE-SEP-1"
	rc2     = "-A KUBE-SVC-S -m recent --name KUBE-SEP-2 --rcheck -j KUBE-SEP-2"
	rc3     = "-A KUBE-SVC-S -m recent --name KUBE-SEP-3 --rcheck -j KUBE-SEP-3"
	st2     = "-A KUBE-SVC-S -m statistic --mode random --probability 0.50000000000 -j KUBE-SEP-2"
	dnat1   = "-A KUBE-SEP-1 -p tcp -j DNAT --to-destination 10.244.1.7:9376"
	dnat2   = "-A KUBE-SEP-2 -p tcp -j DNAT --to-destination 10.244.2.5:9376"
	dnat3   = "-A KUBE-SEP-3 -p tcp -j DNAT --to-destination 10.244.2.6:9376"
	post    = "-A POSTROUTING -j KUBE-POSTROUTING"
	ret     = "-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN"
	last2   = "-A KUBE-SVC-S -j KUBE-SEP-2"
	foo     = "-A KUBE-SERVICES -m foo -j KUBE-MARK-DROP"
	drop    = "-A KUBE-MARK-DROP -j MARK --set-xmark 0x8000/0x8000"
)

// threeEndpoints is kube-proxy's random split over three endpoints, the
// way the trace records it: each branch's stretch starts at another side
// of the rule that forked it from the previous one.
func threeEndpoints(first bool) dataplane.Walk {
	third := 1.0 / 3
	var steps []dataplane.Step
	steps = append(steps, step(0, 1, true, "KUBE-SERVICES", svcJump))
	if !first {
		steps = append(steps, step(0, 1, false, svc, masq))
	}
	steps = append(steps,
		step(1, third, true, svc, st1), step(1, third, true, "KUBE-SEP-1", dnat1), step(1, third, true, "POSTROUTING", post),
		step(1, third, false, "KUBE-POSTROUTING", ret), step(1, third, true, "POSTROUTING", "-A POSTROUTING -j LOG"),
		step(2, 2*third, false, svc, st1), step(2, third, true, svc, st2), step(2, third, true, "KUBE-SEP-2", dnat2),
		step(2, third, true, "POSTROUTING", post),
		step(3, third, false, svc, st2), step(3, third, true, svc, st3), step(3, third, true, "KUBE-SEP-3", dnat3),
		step(3, third, true, "POSTROUTING", post))
	return dataplane.Walk{Steps: steps, Outcomes: []dataplane.Outcome{{Probability: third}, {Probability: third}, {Probability: third}}}
}

// affinity is one client pinned to endpoint 3, and fresh ones split 1:2.
func affinity() dataplane.Walk {
	return dataplane.Walk{Steps: []dataplane.Step{
		step(0, 1, true, "KUBE-SERVICES", svcJump),
		step(1, 1, true, svc, rc3), step(1, 1, true, "KUBE-SEP-3", dnat3),
		step(2, 1, false, svc, rc3), step(2, 1.0/3, true, svc, st1), step(2, 1.0/3, true, "KUBE-SEP-1", dnat1),
		step(3, 2.0/3, false, svc, st1), step(3, 2.0/3, true, svc, last2), step(3, 2.0/3, true, "KUBE-SEP-2", dnat2),
	}, Outcomes: []dataplane.Outcome{{Probability: 1, Affinity: "sticky"}, {Probability: 1.0 / 3, Affinity: "fresh"}, {Probability: 2.0 / 3, Affinity: "fresh"}}}
}

// pinnedFirst is affinity as the trace orders it: the pinned clients'
// outcomes first, so the side of each --rcheck that fresh clients take is
// on a pinned outcome's stretch.
func pinnedFirst() dataplane.Walk {
	return dataplane.Walk{Steps: []dataplane.Step{
		step(0, 1, true, "KUBE-SERVICES", svcJump),
		step(1, 1, true, svc, rc1), step(1, 1, true, "KUBE-SEP-1", dnat1),
		step(2, 1, false, svc, rc1), step(2, 1, true, svc, rc2), step(2, 1, true, "KUBE-SEP-2", dnat2),
		step(3, 1, false, svc, rc2), step(3, 0.5, true, svc, st1), step(3, 0.5, true, "KUBE-SEP-1", dnat1),
		step(4, 0.5, false, svc, st1), step(4, 0.5, true, svc, last2), step(4, 0.5, true, "KUBE-SEP-2", dnat2),
	}, Outcomes: []dataplane.Outcome{{Probability: 1, Affinity: "sticky"}, {Probability: 1, Affinity: "sticky"},
		{Probability: 0.5, Affinity: "fresh"}, {Probability: 0.5, Affinity: "fresh"}}}
}

// unevaluable is a match the walk cannot evaluate: if it matches every
// packet is dropped; if not, two endpoints share them.
func unevaluable() dataplane.Walk {
	yes, no := []string{"-m foo matches"}, []string{"-m foo does not match"}
	return dataplane.Walk{Steps: []dataplane.Step{
		step(1, 1, true, "KUBE-SERVICES", foo), step(1, 1, true, "KUBE-MARK-DROP", drop), step(1, 1, true, "POSTROUTING", post),
		step(2, 1, false, "KUBE-SERVICES", foo), step(2, 1, true, "KUBE-SERVICES", svcJump), step(2, 0.5, true, svc, st2),
		step(2, 0.5, true, "KUBE-SEP-2", dnat2), step(2, 0.5, true, "POSTROUTING", post),
		step(3, 0.5, false, svc, st2), step(3, 0.5, true, svc, st3), step(3, 0.5, true, "KUBE-SEP-3", dnat3),
		step(3, 0.5, true, "POSTROUTING", post),
	}, Outcomes: []dataplane.Outcome{{Probability: 1, Assumptions: yes}, {Probability: 0.5, Assumptions: no}, {Probability: 0.5, Assumptions: no}}}
}

// TestFlowOf reads chain reach and rule shares from the steps' own
// probabilities: a chain counts each path once however often the path
// comes back to it, pinned clients' paths are sticky and not shares, and
// alternatives are not added up.
func TestFlowOf(t *testing.T) {
	third := 1.0 / 3
	tests := []struct {
		name   string
		walk   dataplane.Walk
		reach  map[string]float64
		sticky []string
		shares map[string]Share // rule text → share
	}{
		{"random split after a rule of the Service chain", threeEndpoints(false),
			map[string]float64{"KUBE-SERVICES": 1, svc: 1, "KUBE-SEP-1": third, "KUBE-SEP-2": third, "KUBE-SEP-3": third,
				"POSTROUTING": 1, "KUBE-POSTROUTING": third},
			nil, map[string]Share{svcJump: {Known: true, P: 1}, masq: {}, st1: {Known: true, P: third}, st2: {Known: true, P: third},
				st3: {Known: true, P: third}, dnat2: {Known: true, P: third}, post: {Known: true, P: 1}}},
		// The fork is the chain's first rule, so each branch starts by
		// entering it; the third branch forks off the second inside it.
		{"random split at the Service chain's first rule", threeEndpoints(true),
			map[string]float64{"KUBE-SERVICES": 1, svc: 1, "KUBE-SEP-1": third, "KUBE-SEP-2": third, "KUBE-SEP-3": third,
				"POSTROUTING": 1, "KUBE-POSTROUTING": third},
			nil, map[string]Share{st2: {Known: true, P: third}}},
		{"ClientIP affinity", affinity(),
			map[string]float64{"KUBE-SERVICES": 1, svc: 1, "KUBE-SEP-1": third, "KUBE-SEP-2": 2 * third}, []string{"KUBE-SEP-3"},
			map[string]Share{rc3: {Known: true, Sticky: true}, st1: {Known: true, P: third}, last2: {Known: true, P: 2 * third},
				dnat3: {Known: true, Sticky: true}}},
		{"ClientIP affinity, fresh clients past every --rcheck", pinnedFirst(),
			map[string]float64{"KUBE-SERVICES": 1, svc: 1, "KUBE-SEP-1": 0.5, "KUBE-SEP-2": 0.5}, nil,
			map[string]Share{rc1: {Known: true, Sticky: true}, rc2: {Known: true, Sticky: true}, st1: {Known: true, P: 0.5},
				last2: {Known: true, P: 0.5}, dnat1: {Known: true, P: 0.5}}},
		{"either side of an unevaluable match", unevaluable(),
			map[string]float64{"KUBE-SERVICES": 1, "KUBE-MARK-DROP": 1, svc: 1, "KUBE-SEP-2": 0.5, "KUBE-SEP-3": 0.5, "POSTROUTING": 1},
			nil, map[string]Share{foo: {Known: true, P: 1}, svcJump: {Known: true, P: 1}, post: {Known: true, P: 1}, st2: {Known: true, P: 0.5}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := FlowOf(tt.walk)
			reach := map[string]float64{}
			var sticky []string
			for k, p := range f.reach {
				reach[k.chain] = p
			}
			for k := range f.sticky {
				sticky = append(sticky, k.chain)
			}
			if diff := cmp.Diff(tt.reach, reach, cmpopts.EquateApprox(0, 1e-9)); diff != "" {
				t.Errorf("reach (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.sticky, sticky); diff != "" {
				t.Errorf("sticky chains (-want +got):\n%s", diff)
			}
			for text, want := range tt.shares {
				c := dataplane.Listing{Table: "nat", Name: chainOf(text)}
				if got := f.Share(c, text); !cmp.Equal(got, want, cmpopts.EquateApprox(0, 1e-9)) {
					t.Errorf("Share(%q) = %+v, want %+v", text, got, want)
				}
			}
		})
	}
}

// chainOf is the chain an iptables-save rule is appended to.
func chainOf(text string) string { return strings.Fields(text)[1] }
