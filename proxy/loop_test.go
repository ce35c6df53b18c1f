package proxy

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

type fakeSource struct {
	objs    Objects
	changed func(Kind)
}

func (f *fakeSource) Start(_ context.Context, changed func(Kind)) error {
	f.changed = changed
	return nil
}
func (f *fakeSource) Objects() Objects { return f.objs }

type fakeMode struct {
	fulls  []bool
	fail   error
	failed []string  // the report's FailedFamilies
	synced chan bool // receives each sync's full flag when not nil
}

func (m *fakeMode) Name() string { return "fake" }
func (m *fakeMode) Sync(_ context.Context, _ Objects, full, _ bool) (Report, error) {
	m.fulls = append(m.fulls, full)
	if m.synced != nil {
		m.synced <- full
	}
	return Report{Full: full, Repairs: map[string]int{"chain_missing": 2}, FailedFamilies: m.failed}, m.fail
}
func (m *fakeMode) Cleanup(context.Context, bool) (Report, error) { return Report{}, nil }

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newTestLoop() (*Loop, *fakeMode, *clock) {
	c := &clock{t: time.Unix(1000, 0)}
	m := &fakeMode{}
	l := &Loop{Source: &fakeSource{}, Mode: m, Metrics: NewMetrics("svctrace"), SyncPeriod: 30 * time.Second, Now: c.now,
		triggers: make(chan struct{}, 1)}
	return l, m, c
}

func get(t *testing.T, l *Loop, path string) (int, string) {
	t.Helper()
	return getWith(t, l.MetricsHandler(nil, false), path)
}

func getWith(t *testing.T, h http.Handler, path string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
	b, _ := io.ReadAll(rec.Body)
	return rec.Code, string(b)
}

func TestHealthzTurns503WhileAChangeWaitsTooLong(t *testing.T) {
	l, _, c := newTestLoop()
	if code, _ := get(t, l, "/healthz"); code != 200 {
		t.Errorf("idle: %d, want 200", code)
	}
	l.changed(EndpointsChanged)
	c.t = c.t.Add(29 * time.Second)
	if code, _ := get(t, l, "/healthz"); code != 200 {
		t.Errorf("change queued 29s with a 30s period: %d, want 200", code)
	}
	c.t = c.t.Add(2 * time.Second)
	if code, body := get(t, l, "/healthz"); code != 503 || !strings.Contains(body, "lastUpdated") {
		t.Errorf("change queued 31s: %d %s, want 503 with kube-proxy's JSON", code, body)
	}
	if _, err := l.SyncOnce(t.Context(), false, false); err != nil {
		t.Fatal(err)
	}
	if code, _ := get(t, l, "/healthz"); code != 200 {
		t.Errorf("after the sync: %d, want 200", code)
	}
}

func TestMetricsUseKubeProxyNames(t *testing.T) {
	l, _, _ := newTestLoop()
	l.changed(EndpointsChanged)
	l.changed(ServiceChanged)
	_, body := get(t, l, "/metrics")
	if !strings.Contains(body, "svctrace_sync_proxy_rules_endpoint_changes_pending 1") {
		t.Errorf("pending endpoint change not counted:\n%s", body)
	}
	if _, err := l.SyncOnce(t.Context(), true, false); err != nil {
		t.Fatal(err)
	}
	_, body = get(t, l, "/metrics")
	for _, want := range []string{
		"svctrace_sync_proxy_rules_endpoint_changes_pending 0",
		"svctrace_sync_proxy_rules_endpoint_changes_total 1",
		"svctrace_sync_proxy_rules_service_changes_total 1",
		"svctrace_sync_full_proxy_rules_duration_seconds_count 1",
		"svctrace_sync_proxy_rules_duration_seconds_count 1",
		`svctrace_sync_proxy_rules_repairs_total{kind="chain_missing"} 2`,
		"svctrace_sync_proxy_rules_last_timestamp_seconds 1000",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("missing %q in\n%s", want, body)
		}
	}
	if _, mode := get(t, l, "/proxyMode"); mode != "fake" {
		t.Errorf("/proxyMode = %q", mode)
	}
}

func TestFailedSyncCountsAndKeepsTheChangeQueued(t *testing.T) {
	l, m, c := newTestLoop()
	m.fail = errors.New("restore failed")
	l.changed(EndpointsChanged)
	if _, err := l.SyncOnce(t.Context(), false, false); err == nil {
		t.Fatal("want the mode's error")
	}
	c.t = c.t.Add(time.Minute)
	if ok, _, _ := l.Health(); ok {
		t.Error("a change that failed to sync must keep counting against health")
	}
	_, body := get(t, l, "/metrics")
	for _, want := range []string{"svctrace_sync_proxy_rules_iptables_restore_failures_total 1", "svctrace_sync_proxy_rules_iptables_partial_restore_failures_total 1"} {
		if !strings.Contains(body, want) {
			t.Errorf("missing %q", want)
		}
	}
}

// TestFailedNFTablesSyncCountsByFamily: a failed nftables transaction is
// counted as kube-proxy counts it, by IP family, and not as an
// iptables-restore failure.
func TestFailedNFTablesSyncCountsByFamily(t *testing.T) {
	l, m, _ := newTestLoop()
	m.fail, m.failed = errors.New("nft failed"), []string{"IPv6"}
	if _, err := l.SyncOnce(t.Context(), false, false); err == nil {
		t.Fatal("want the mode's error")
	}
	_, body := get(t, l, "/metrics")
	if !strings.Contains(body, `svctrace_sync_proxy_rules_nftables_sync_failures_total{ip_family="IPv6"} 1`) ||
		!strings.Contains(body, "svctrace_sync_proxy_rules_iptables_restore_failures_total 0") {
		t.Errorf("want one IPv6 nftables sync failure and no iptables-restore failure:\n%s", body)
	}
}

func TestRunSyncsOnChangesAndStopsOnCancel(t *testing.T) {
	src := &fakeSource{}
	m := &fakeMode{synced: make(chan bool, 4)}
	l := &Loop{Source: src, Mode: m, Metrics: NewMetrics("kubeproxy"), SyncPeriod: time.Hour}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error)
	go func() { done <- l.Run(ctx) }()
	if full := <-m.synced; !full {
		t.Error("the first sync must be full")
	}
	src.changed(EndpointsChanged)
	if full := <-m.synced; full {
		t.Error("a change must bring a partial sync")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestSelector(t *testing.T) {
	cases := []struct {
		labels          map[string]string
		scoped, replace bool
	}{
		{nil, false, true},
		{map[string]string{LabelServiceProxyName: ProxyName}, true, false},
		{map[string]string{LabelServiceProxyName: "other"}, false, false},
		{map[string]string{LabelServiceProxyName: ProxyName, LabelHeadless: ""}, false, false},
		{map[string]string{LabelHeadless: ""}, false, false},
	}
	for _, c := range cases {
		if got := Selector(false).Matches(labels.Set(c.labels)); got != c.scoped {
			t.Errorf("scoped %v: %v", c.labels, got)
		}
		if got := Selector(true).Matches(labels.Set(c.labels)); got != c.replace {
			t.Errorf("replace %v: %v", c.labels, got)
		}
	}
	objs := Filter(objectList{svc("a", nil), svc("b", map[string]string{LabelServiceProxyName: ProxyName}),
		&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1"}}}.objects(), "n1", Selector(false))
	if len(objs.Services) != 1 || objs.Services[0].Name != "b" || objs.Node == nil {
		t.Errorf("Filter: %+v", objs)
	}
}

func TestProfilesOnlyWithProfiling(t *testing.T) {
	l, _, _ := newTestLoop()
	if code, _ := getWith(t, l.MetricsHandler(nil, false), "/debug/pprof/heap"); code != http.StatusNotFound {
		t.Errorf("without profiling: /debug/pprof/heap answered %d, want 404", code)
	}
	code, body := getWith(t, l.MetricsHandler(nil, true), "/debug/pprof/heap?debug=1")
	if code != http.StatusOK || !strings.Contains(body, "heap profile") {
		t.Errorf("with profiling: /debug/pprof/heap answered %d %.80q, want 200 and a heap profile", code, body)
	}
}
