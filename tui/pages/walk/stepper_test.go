package walk

import (
	"testing"

	"github.com/svctrace/kubectl-svctrace/dataplane"
)

// thirds is a walk split evenly over three endpoints.
var thirds = dataplane.Walk{Outcomes: []dataplane.Outcome{
	{Verdict: "DNAT", Target: "10.244.1.7:9376", Probability: 1.0 / 3},
	{Verdict: "DNAT", Target: "10.244.2.5:9376", Probability: 1.0 / 3},
	{Verdict: "DNAT", Target: "10.244.2.6:9376", Probability: 1.0 / 3, NotEndpoint: true},
}}

func TestStepLabel(t *testing.T) {
	tests := []struct {
		name string
		walk dataplane.Walk
		step dataplane.Step
		want string
	}{
		{"matched rule", dataplane.Walk{}, dataplane.Step{Table: "nat", Chain: "KUBE-SERVICES", Line: 41, Rule: "-A KUBE-SERVICES -j KUBE-SVC-X", Matched: true, Probability: 1},
			"nat KUBE-SERVICES line 41: matched, reached by 100.0%"},
		{"rule not matched, with its note", dataplane.Walk{}, dataplane.Step{Table: "nat", Chain: "KUBE-SVC-X", Line: 61, Rule: "-A KUBE-SVC-X -j KUBE-SEP-A", Probability: 0.5, Note: "random 50.0%"},
			"nat KUBE-SVC-X line 61: not matched, reached by 50.0% (random 50.0%)"},
		// The end of a built-in chain is a policy step with the chain's
		// declaration as Rule and the policy as Note.
		{"policy applied", dataplane.Walk{}, dataplane.Step{Table: "nat", Chain: "OUTPUT", Line: 3, Rule: ":OUTPUT ACCEPT", Probability: 1, Note: "policy ACCEPT", Kind: dataplane.StepPolicy},
			"nat OUTPUT line 3: policy ACCEPT applied, reached by 100.0%"},
		{"policy drop", dataplane.Walk{}, dataplane.Step{Table: "filter", Chain: "FORWARD", Rule: ":FORWARD DROP", Probability: 0.25, Note: "policy DROP", Kind: dataplane.StepPolicy},
			"filter FORWARD: policy DROP applied, reached by 25.0%"},
		{"a rule text and note like a policy's are still a rule", dataplane.Walk{}, dataplane.Step{Chain: "C", Rule: ":odd", Note: "policy assumed"},
			"C: not matched, reached by 0.0% (policy assumed)"},
		// On a branch, the share of the packets at the step that end in
		// the branch's outcome: half of those not taking the first
		// endpoint go on to the second.
		{"branch step shared with later branches", thirds, dataplane.Step{Chain: "KUBE-SVC-X", Line: 61, Probability: 2.0 / 3, Branch: 2},
			"KUBE-SVC-X line 61: not matched, reached by 66.7%, 50.0% of them end in branch 2"},
		{"branch step of one outcome only", thirds, dataplane.Step{Chain: "KUBE-SEP-B", Line: 72, Matched: true, Probability: 1.0 / 3, Branch: 2},
			"KUBE-SEP-B line 72: matched, reached by 33.3%"},
		{"branch past the outcomes says nothing more", thirds, dataplane.Step{Chain: "C", Probability: 1, Branch: 4},
			"C: not matched, reached by 100.0%"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := stepLabel(tt.walk, tt.step); got != tt.want {
				t.Errorf("stepLabel = %q, want %q", got, tt.want)
			}
		})
	}
}
