package proxy

import (
	"context"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/klog/v2"
)

// Loop runs a Mode against a Source: a partial sync at most once per
// MinSyncPeriod after changes, and a full sync (read back, repair) every
// SyncPeriod. Stopping it leaves the dataplane as it is, so traffic keeps
// flowing, as with kube-proxy.
type Loop struct {
	Source        Source
	Mode          Mode
	Metrics       *Metrics
	SyncPeriod    time.Duration
	MinSyncPeriod time.Duration
	// Flows, when set, deletes stale UDP conntrack entries after each sync
	// that wrote to the kernel, as kube-proxy does at the end of its syncs.
	Flows *StaleFlows
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	mu          sync.Mutex
	queued      time.Time // first change not yet synced; zero when none
	lastSynced  time.Time
	lastPending map[Kind]int
	last        Report
	triggers    chan struct{}
}

func (l *Loop) now() time.Time {
	if l.Now != nil {
		return l.Now()
	}
	return time.Now()
}

// changed records a change and wakes the loop.
func (l *Loop) changed(k Kind) {
	l.mu.Lock()
	now := l.now()
	if l.queued.IsZero() {
		l.queued = now
	}
	if l.lastPending == nil {
		l.lastPending = map[Kind]int{}
	}
	l.lastPending[k]++
	l.mu.Unlock()
	m := l.Metrics
	m.LastQueued.Set(float64(now.UnixNano()) / 1e9)
	switch k {
	case EndpointsChanged:
		m.EndpointPending.Inc()
		m.EndpointTotal.Inc()
	case ServiceChanged:
		m.ServicePending.Inc()
		m.ServiceTotal.Inc()
	}
	select {
	case l.triggers <- struct{}{}:
	default:
	}
}

// Run starts the source, syncs fully once, and keeps syncing until ctx
// ends.
func (l *Loop) Run(ctx context.Context) error {
	l.triggers = make(chan struct{}, 1)
	if err := l.Source.Start(ctx, l.changed); err != nil {
		return err
	}
	if _, err := l.SyncOnce(ctx, true, false); err != nil {
		klog.ErrorS(err, "Initial sync failed; retrying at the next change or sync period")
	}
	full := time.NewTicker(l.SyncPeriod)
	defer full.Stop()
	for {
		select {
		case <-ctx.Done():
			klog.InfoS("Stopping; the dataplane rules stay in place")
			return nil
		case <-full.C:
			_, _ = l.SyncOnce(ctx, true, false)
		case <-l.triggers:
			if wait := l.MinSyncPeriod - l.now().Sub(l.lastSync()); wait > 0 {
				select {
				case <-ctx.Done():
					return nil
				case <-time.After(wait):
				}
			}
			_, _ = l.SyncOnce(ctx, false, false)
		}
	}
}

func (l *Loop) lastSync() time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lastSynced
}

// SyncOnce programs the current objects once and records metrics.
func (l *Loop) SyncOnce(ctx context.Context, full, dryRun bool) (Report, error) {
	l.mu.Lock()
	queued := l.queued
	l.queued, l.lastPending = time.Time{}, nil
	l.mu.Unlock()
	objs := l.Source.Objects()
	start := l.now()
	rep, err := l.Mode.Sync(ctx, objs, full, dryRun)
	// Also after a failed sync: the flows of endpoints that left are
	// stale whatever one family's rules say (kube-proxy cleans per
	// family, so a failing family does not hold up the other's).
	if !dryRun && l.Flows != nil {
		l.cleanFlows(ctx, objs, &rep)
	}
	took := l.now().Sub(start).Seconds()
	m := l.Metrics
	if err != nil {
		m.countFailure(rep)
		l.mu.Lock()
		if l.queued.IsZero() {
			l.queued = queued
		}
		l.mu.Unlock()
		klog.ErrorS(err, "Sync failed; the next sync will be full", "mode", l.Mode.Name())
		return rep, fmt.Errorf("%s sync: %w", l.Mode.Name(), err)
	}
	m.SyncDuration.Observe(took)
	if rep.Full {
		m.FullSyncDuration.Observe(took)
	} else {
		m.PartialSyncDuration.Observe(took)
	}
	for k, n := range rep.Repairs {
		m.Repairs.WithLabelValues(k).Add(float64(n))
	}
	if dryRun {
		return rep, nil
	}
	m.EndpointPending.Set(0)
	m.ServicePending.Set(0)
	end := l.now()
	m.LastSync.Set(float64(end.UnixNano()) / 1e9)
	l.observeProgramming(objs, end)
	l.mu.Lock()
	l.lastSynced, l.last = end, rep
	l.mu.Unlock()
	klog.V(2).InfoS("Synced", "mode", l.Mode.Name(), "full", rep.Full, "summary", rep.Summary, "seconds", took)
	return rep, nil
}

// cleanFlows deletes the stale UDP flows and says so in rep's summary; a
// failure is logged and does not fail the sync, as in kube-proxy.
func (l *Loop) cleanFlows(ctx context.Context, objs Objects, rep *Report) {
	n, err := l.Flows.Clean(ctx, objs, rep.Full)
	if err != nil {
		klog.ErrorS(err, "Stale UDP conntrack entries not deleted")
	}
	if n > 0 {
		rep.Summary += fmt.Sprintf("; %d stale UDP conntrack entries deleted", n)
		klog.V(2).InfoS("Deleted stale UDP conntrack entries", "count", n)
	}
}

// observeProgramming records, for slices changed since the previous
// sync, the time from the change (the EndpointSlice controller's trigger
// time annotation) to now, like kube-proxy's
// network_programming_duration_seconds.
func (l *Loop) observeProgramming(objs Objects, now time.Time) {
	prev := l.lastSync()
	for _, s := range objs.Slices {
		v, ok := s.Annotations[corev1.EndpointsLastChangeTriggerTime]
		if !ok {
			continue
		}
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil || !t.After(prev) {
			continue
		}
		l.Metrics.NetworkProgramming.Observe(now.Sub(t).Seconds())
	}
}
