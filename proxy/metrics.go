package proxy

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are kube-proxy's sync metrics under the same names, so existing
// dashboards read --serve (namespace "kubeproxy" when it replaces
// kube-proxy, "svctrace" beside it), plus repairs by kind.
type Metrics struct {
	Registry *prometheus.Registry

	SyncDuration, FullSyncDuration, PartialSyncDuration prometheus.Histogram
	LastSync, LastQueued                                prometheus.Gauge
	EndpointPending, ServicePending                     prometheus.Gauge
	EndpointTotal, ServiceTotal                         prometheus.Counter
	RestoreFailures, PartialRestoreFailures             prometheus.Counter
	NFTablesSyncFailures                                *prometheus.CounterVec
	NetworkProgramming                                  prometheus.Histogram
	Repairs                                             *prometheus.CounterVec
}

// NewMetrics registers the metrics in a registry of their own.
func NewMetrics(namespace string) *Metrics {
	buckets := prometheus.ExponentialBuckets(0.001, 2, 15)
	h := func(name, help string) prometheus.Histogram {
		return prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: namespace, Name: name, Help: help, Buckets: buckets})
	}
	g := func(name, help string) prometheus.Gauge {
		return prometheus.NewGauge(prometheus.GaugeOpts{Namespace: namespace, Name: name, Help: help})
	}
	c := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Namespace: namespace, Name: name, Help: help})
	}
	m := &Metrics{
		Registry:            prometheus.NewRegistry(),
		SyncDuration:        h("sync_proxy_rules_duration_seconds", "SyncProxyRules latency in seconds"),
		FullSyncDuration:    h("sync_full_proxy_rules_duration_seconds", "SyncProxyRules latency in seconds for full resyncs"),
		PartialSyncDuration: h("sync_partial_proxy_rules_duration_seconds", "SyncProxyRules latency in seconds for partial resyncs"),
		LastSync:            g("sync_proxy_rules_last_timestamp_seconds", "The last time proxy rules were successfully synced"),
		LastQueued:          g("sync_proxy_rules_last_queued_timestamp_seconds", "The last time a sync of proxy rules was queued"),
		EndpointPending:     g("sync_proxy_rules_endpoint_changes_pending", "Pending proxy rules Endpoint changes"),
		ServicePending:      g("sync_proxy_rules_service_changes_pending", "Pending proxy rules Service changes"),
		EndpointTotal:       c("sync_proxy_rules_endpoint_changes_total", "Cumulative proxy rules Endpoint changes"),
		ServiceTotal:        c("sync_proxy_rules_service_changes_total", "Cumulative proxy rules Service changes"),
		RestoreFailures:     c("sync_proxy_rules_iptables_restore_failures_total", "Cumulative proxy iptables restore failures"),
		PartialRestoreFailures: c("sync_proxy_rules_iptables_partial_restore_failures_total",
			"Cumulative proxy iptables partial restore failures"),
		NFTablesSyncFailures: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace,
			Name: "sync_proxy_rules_nftables_sync_failures_total", Help: "Cumulative proxy nftables sync failures"}, []string{"ip_family"}),
		NetworkProgramming: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: namespace,
			Name: "network_programming_duration_seconds", Help: "In Cluster Network Programming Latency in seconds",
			Buckets: prometheus.LinearBuckets(0.25, 0.25, 20)}),
		Repairs: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace,
			Name: "sync_proxy_rules_repairs_total", Help: "Dataplane state a full sync found wrong and repaired, by kind"}, []string{"kind"}),
	}
	m.Registry.MustRegister(m.SyncDuration, m.FullSyncDuration, m.PartialSyncDuration, m.LastSync, m.LastQueued,
		m.EndpointPending, m.ServicePending, m.EndpointTotal, m.ServiceTotal, m.RestoreFailures,
		m.PartialRestoreFailures, m.NFTablesSyncFailures, m.NetworkProgramming, m.Repairs)
	return m
}

// countFailure counts a failed sync as kube-proxy does: by IP family for
// nftables transactions, else as an iptables-restore failure.
func (m *Metrics) countFailure(rep Report) {
	if len(rep.FailedFamilies) > 0 {
		for _, f := range rep.FailedFamilies {
			m.NFTablesSyncFailures.WithLabelValues(f).Inc()
		}
		return
	}
	m.RestoreFailures.Inc()
	if !rep.Full {
		m.PartialRestoreFailures.Inc()
	}
}
