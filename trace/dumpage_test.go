package trace_test

import (
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/svctrace/kubectl-svctrace/trace"
)

// A dump taken before pod web-2 existed lacks its endpoint chain: that is
// the dump's age, not kube-proxy (issue 14). Its differences become one
// DumpPredatesObjects warning asking for a fresh dump, and the trace does
// not fail; the same dump saved after every change keeps the error and
// says its age explains nothing.
func TestDumpOlderThanItsObjects(t *testing.T) {
	before := input(t, "healthy.yaml", "web", nil)
	sl := &before.EndpointSlices[0]
	sl.Endpoints = sl.Endpoints[:2] // the Service as it was before web-2
	dump := nodeDump(t, before)

	saved := time.Date(2026, 11, 25, 9, 30, 0, 0, time.UTC)
	at := func(in *trace.Input, created time.Time) {
		for i := range in.Pods {
			in.Pods[i].CreationTimestamp = metav1.NewTime(saved.Add(-time.Hour))
		}
		in.Pods[2].CreationTimestamp = metav1.NewTime(created) // web-2
	}

	in := input(t, "healthy.yaml", "web", &trace.DataplaneInput{IPTables: parse(t, dump), IPTablesName: "node-1.save", SavedAt: saved})
	at(&in, saved.Add(5*time.Minute))
	tr := trace.Build(in)
	if got := ids(tr.Findings, "dataplane"); len(got) != 1 || got[0] != trace.DumpPredatesObjects {
		t.Fatalf("dataplane findings %v, want only %s; all %+v", got, trace.DumpPredatesObjects, tr.Findings)
	}
	f := only(t, tr.Findings, trace.DumpPredatesObjects)
	for _, want := range []string{"node-1.save was saved 2026-11-25 09:30:00 UTC, before pod/web-2 was created 09:35:00", "EndpointChainMissing ×1"} {
		if !strings.Contains(f.Message, want) {
			t.Errorf("message lacks %q:\n%s", want, f.Message)
		}
	}
	if !strings.Contains(f.Hint, "fresh dump") || trace.HasErrors(tr.Findings) {
		t.Errorf("hint %q, errors %v: want a fresh dump asked for and no error", f.Hint, trace.HasErrors(tr.Findings))
	}

	in = input(t, "healthy.yaml", "web", &trace.DataplaneInput{IPTables: parse(t, dump), IPTablesName: "node-1.save", SavedAt: saved})
	at(&in, saved.Add(-5*time.Minute))
	f = only(t, trace.Build(in).Findings, "EndpointChainMissing")
	if f.Severity != trace.SeverityError || !strings.Contains(f.Message, "is newer than every object compared with it (last: pod/web-2 was created at 2026-11-25 09:25:00)") {
		t.Errorf("EndpointChainMissing = %+v, want an error saying the dump is newer", f)
	}
}
