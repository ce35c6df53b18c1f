package e2e

import "testing"

// TestGate runs everywhere: it pins down when the tier runs, skips or fails.
func TestGate(t *testing.T) {
	for _, tc := range []struct {
		name              string
		env               map[string]string
		euid              int
		wantRun, wantFail bool
	}{
		{name: "nothing asked", euid: 0},
		{name: "asked, root", env: map[string]string{"SVCTRACE_E2E": "1"}, euid: 0, wantRun: true},
		{name: "asked, not root", env: map[string]string{"SVCTRACE_E2E": "1"}, euid: 1000},
		{name: "CI, not asked (unit tier)", env: map[string]string{"CI": "true"}, euid: 0},
		{name: "CI and asked, root", env: map[string]string{"CI": "true", "SVCTRACE_E2E": "1"}, euid: 0, wantRun: true},
		{name: "CI and asked, not root", env: map[string]string{"CI": "true", "SVCTRACE_E2E": "1"}, euid: 1000, wantFail: true},
		{name: "CI=false", env: map[string]string{"CI": "false"}, euid: 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			skip, fail := gate(func(k string) string { return tc.env[k] }, tc.euid)
			run := skip == "" && fail == ""
			if run != tc.wantRun || (fail != "") != tc.wantFail {
				t.Errorf("gate(%v, euid %d) = skip %q, fail %q; want run %v, fail %v", tc.env, tc.euid, skip, fail, tc.wantRun, tc.wantFail)
			}
		})
	}
}
