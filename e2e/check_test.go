package e2e

import (
	"slices"
	"strings"
	"testing"
)

// wantFinding is a finding a scenario expects. Empty fields match anything;
// every string of contains must occur in the message or the hint.
type wantFinding struct {
	id, severity, subject string
	contains              []string
}

func (w wantFinding) matches(f finding) bool {
	if f.ID != w.id || (w.severity != "" && f.Severity != w.severity) || (w.subject != "" && f.Subject != w.subject) {
		return false
	}
	text := f.Message + "\n" + f.Hint
	for _, s := range w.contains {
		if !strings.Contains(text, s) {
			return false
		}
	}
	return true
}

// expect is what a run of kubectl svctrace must show.
type expect struct {
	exit     int
	findings []wantFinding
	// also lists IDs of other warnings and errors that may accompany the
	// expected ones; any warning or error not listed fails the scenario.
	also []string
}

// checkResult checks r's exit code, the trace's header and summary, that
// every wanted finding is there, and that no other warning or error is.
func checkResult(t *testing.T, r result, w expect) {
	t.Helper()
	if r.exit != w.exit {
		t.Errorf("exit code %d, want %d\n%s", r.exit, w.exit, r)
	}
	if r.doc == nil {
		t.Fatalf("no JSON trace on stdout\n%s", r)
	}
	d := r.doc
	if d.APIVersion != "svctrace.dev/v1alpha1" || d.Kind != "Trace" {
		t.Errorf("header apiVersion %q kind %q, want svctrace.dev/v1alpha1 Trace", d.APIVersion, d.Kind)
	}
	checkSummary(t, r)
	for _, want := range w.findings {
		if !slices.ContainsFunc(d.Findings, want.matches) {
			t.Errorf("no finding %s (severity %q, subject %q, containing %q)\n%s",
				want.id, want.severity, want.subject, want.contains, r)
		}
	}
	for _, f := range d.Findings {
		if f.Severity == "info" || slices.Contains(w.also, f.ID) ||
			slices.ContainsFunc(w.findings, func(w wantFinding) bool { return w.id == f.ID }) {
			continue
		}
		t.Errorf("unexpected %s finding %s on %s: %s\n%s", f.Severity, f.ID, f.Subject, f.Message, r)
	}
}

// checkSummary checks that the summary counts the findings and that the
// exit code agrees with it.
func checkSummary(t *testing.T, r result) {
	t.Helper()
	count := map[string]int{}
	for _, f := range r.doc.Findings {
		count[f.Severity]++
	}
	s := r.doc.Summary
	if s.Errors != count["error"] || s.Warnings != count["warning"] || s.Infos != count["info"] || s.OK != (s.Errors == 0) {
		t.Errorf("summary %+v does not count the findings %v", s, count)
	}
	if wantExit := map[bool]int{true: 0, false: 3}[s.OK]; r.exit != wantExit {
		t.Errorf("exit code %d with summary ok=%v, want %d", r.exit, s.OK, wantExit)
	}
}

// checkDNSLive checks that the trace queried every DNS name it checked and
// judged the answer right, that the answer holds the expected records in
// any order (CoreDNS's loadbalance plugin shuffles them), and that each of
// names was checked.
func checkDNSLive(t *testing.T, r result, names ...string) {
	t.Helper()
	if r.doc.DNS == nil || len(r.doc.DNS.Checks) == 0 {
		t.Fatalf("trace has no DNS checks\n%s", r)
	}
	checked := map[string]bool{}
	for _, c := range r.doc.DNS.Checks {
		checked[strings.TrimSuffix(c.Name, ".")] = true
		// An empty expectation (the address of an ExternalName target)
		// leaves the answer to the check's verdict.
		if !c.Queried || !c.OK || (len(c.Expected) > 0 && !sameSet(c.Answered, c.Expected)) {
			t.Errorf("DNS check %s %s: queried %v ok %v, answered %q, expected %q",
				c.Type, c.Name, c.Queried, c.OK, c.Answered, c.Expected)
		}
	}
	for _, n := range names {
		if !checked[n] {
			t.Errorf("no DNS check of %s; checked %v", n, r.doc.DNS.Checks)
		}
	}
}

// endpointsOf is the trace's endpoints of its only port.
func endpointsOf(t *testing.T, r result) []endpoint {
	t.Helper()
	if len(r.doc.Ports) != 1 {
		t.Fatalf("trace has %d ports, want 1\n%s", len(r.doc.Ports), r)
	}
	return r.doc.Ports[0].Endpoints
}
