package proxy

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"k8s.io/klog/v2"
)

// Health answers /healthz like kube-proxy: 503 while a queued change has
// waited longer than the sync period without a successful sync.
func (l *Loop) Health() (healthy bool, lastUpdated, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now = l.now()
	healthy = l.queued.IsZero() || now.Sub(l.queued) <= l.SyncPeriod
	return healthy, l.lastSynced, now
}

func (l *Loop) serveHealthz(w http.ResponseWriter, _ *http.Request) {
	ok, last, now := l.Health()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if !ok {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	_ = json.NewEncoder(w).Encode(map[string]any{
		"lastUpdated": last.String(), "currentTime": now.String(), "nodeEligible": true,
	})
}

// StateFunc returns the JSON document /debug/state answers for one
// Service: what should be programmed for it and what is. An error
// wrapping ErrNotServed is answered 404, any other 500.
type StateFunc func(ctx context.Context, objs Objects, namespace, name string) ([]byte, error)

// ErrNotServed says a Service is not among those served here.
var ErrNotServed = errors.New("not served here")

// MetricsHandler serves /metrics, /healthz, /proxyMode, when state is not
// nil /debug/state?service=NS/NAME, and with profiling Go's profiles under
// /debug/pprof/ (kube-proxy's --profiling), so a slow sync can be
// profiled in the running process.
func (l *Loop) MetricsHandler(state StateFunc, profiling bool) http.Handler {
	mux := http.NewServeMux()
	if profiling {
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	mux.Handle("/metrics", promhttp.HandlerFor(l.Metrics.Registry, promhttp.HandlerOpts{}))
	mux.HandleFunc("/healthz", l.serveHealthz)
	mux.HandleFunc("/proxyMode", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, l.Mode.Name()) })
	if state != nil {
		mux.HandleFunc("/debug/state", func(w http.ResponseWriter, r *http.Request) {
			ns, name, ok := strings.Cut(r.URL.Query().Get("service"), "/")
			if !ok || ns == "" || name == "" {
				http.Error(w, "give ?service=NAMESPACE/NAME", http.StatusBadRequest)
				return
			}
			doc, err := state(r.Context(), l.Source.Objects(), ns, name)
			switch {
			case errors.Is(err, ErrNotServed):
				http.Error(w, err.Error(), http.StatusNotFound)
				return
			case err != nil:
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(doc)
		})
	}
	return mux
}

// HealthHandler serves /healthz and /livez, kube-proxy's health port.
func (l *Loop) HealthHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", l.serveHealthz)
	mux.HandleFunc("/livez", l.serveHealthz)
	return mux
}

// Serve listens on addr until ctx ends, over HTTPS when tlsConfig is not
// nil; an empty addr serves nothing.
func Serve(ctx context.Context, addr string, h http.Handler, tlsConfig *tls.Config) error {
	if addr == "" {
		return nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	if tlsConfig != nil {
		ln = tls.NewListener(ln, tlsConfig)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			klog.ErrorS(err, "HTTP server stopped", "address", addr)
		}
	}()
	return nil
}
