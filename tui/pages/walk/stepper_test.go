package walk

import (
	"testing"

	"github.com/svctrace/kubectl-svctrace/trace"
)

func TestStepLabel(t *testing.T) {
	tests := []struct {
		name string
		step trace.WalkStep
		want string
	}{
		{"matched rule", trace.WalkStep{Table: "nat", Chain: "KUBE-SERVICES", Line: 41, Rule: "-A KUBE-SERVICES -j KUBE-SVC-X", Matched: true, Probability: 1},
			"nat KUBE-SERVICES line 41: matched, reached by 100.0%"},
		{"rule not matched, with its note", trace.WalkStep{Table: "nat", Chain: "KUBE-SVC-X", Line: 61, Rule: "-A KUBE-SVC-X -j KUBE-SEP-A", Probability: 0.5, Note: "random 50.0%"},
			"nat KUBE-SVC-X line 61: not matched, reached by 50.0% (random 50.0%)"},
		// trace.WalkStep encodes the end of a built-in chain as a step with
		// the chain's declaration as Rule and the policy as Note.
		{"policy applied", trace.WalkStep{Table: "nat", Chain: "OUTPUT", Line: 3, Rule: ":OUTPUT ACCEPT", Probability: 1, Note: "policy ACCEPT"},
			"nat OUTPUT line 3: policy ACCEPT applied, reached by 100.0%"},
		{"policy drop", trace.WalkStep{Table: "filter", Chain: "FORWARD", Rule: ":FORWARD DROP", Probability: 0.25, Note: "policy DROP"},
			"filter FORWARD: policy DROP applied, reached by 25.0%"},
		{"a rule text starting with a colon is still a rule", trace.WalkStep{Chain: "C", Rule: ":odd", Note: "assumed"},
			"C: not matched, reached by 0.0% (assumed)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := stepLabel(tt.step); got != tt.want {
				t.Errorf("stepLabel = %q, want %q", got, tt.want)
			}
		})
	}
}
