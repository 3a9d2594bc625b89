// Package metrics keeps custkpi's Prometheus metrics: HTTP requests by route
// and status, KPI queries by KPI, the result cache, imports, jobs, and
// DuckDB's memory. It hears the engine through engine.Observer and the API
// through the calls below, so neither imports Prometheus; everything is
// registered on the registry the caller passes, so tests stay isolated.
package metrics

import (
	"context"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"custkpi/buildinfo"
	"custkpi/fault"
)

// MemoryTimeout bounds the query of DuckDB's memory made on each scrape: a
// scrape must answer even when DuckDB is busy.
const MemoryTimeout = 2 * time.Second

// Metrics is one server's set of metrics.
type Metrics struct {
	reg            *prometheus.Registry
	httpRequests   *prometheus.CounterVec
	httpDuration   *prometheus.HistogramVec
	inFlight       prometheus.Gauge
	kpiDuration    *prometheus.HistogramVec
	kpiErrors      *prometheus.CounterVec
	cacheHits      *prometheus.CounterVec
	cacheMisses    *prometheus.CounterVec
	importRows     *prometheus.CounterVec
	importDuration *prometheus.HistogramVec
	jobsFinished   *prometheus.CounterVec

	// What a scrape reads at that moment, set once the server has them.
	jobs   atomic.Pointer[func() map[string]int]
	memory atomic.Pointer[func(context.Context) (inUse, temporary int64, err error)]
}

// Buckets of the latency histograms, in seconds: a cached KPI answers in
// well under a millisecond, a query may run up to its timeout (60 s by
// default), an import of millions of rows for minutes.
var (
	requestBuckets = []float64{.001, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}
	importBuckets  = []float64{.1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800}
)

// New makes the metrics and registers them on reg.
func New(reg *prometheus.Registry) *Metrics {
	m := &Metrics{
		reg: reg,
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "custkpi_http_requests_total",
			Help: "HTTP requests answered, by method, route template (e.g. /v1/kpis/:name/values; 'unmatched' for no route) and status."},
			[]string{"method", "route", "status"}),
		httpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "custkpi_http_request_duration_seconds",
			Help: "Time from a request's arrival to the end of its answer, by method, route template and status.", Buckets: requestBuckets},
			[]string{"method", "route", "status"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{Name: "custkpi_http_requests_in_flight",
			Help: "HTTP requests being answered now (this scrape included)."}),
		kpiDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "custkpi_kpi_query_duration_seconds",
			Help: "Time to answer one KPI query, by KPI and by whether the result cache answered it (cache=hit|miss); a scorecard makes one per KPI.", Buckets: requestBuckets},
			[]string{"kpi", "cache"}),
		kpiErrors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "custkpi_kpi_query_errors_total",
			Help: "KPI queries that failed after planning, by KPI and error code (timeout, canceled, out_of_memory, internal...)."},
			[]string{"kpi", "code"}),
		cacheHits: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "custkpi_result_cache_hits_total",
			Help: "KPI queries answered from the result cache, by KPI."}, []string{"kpi"}),
		cacheMisses: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "custkpi_result_cache_misses_total",
			Help: "KPI queries the result cache could not answer (run in DuckDB), by KPI."}, []string{"kpi"}),
		importRows: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "custkpi_import_rows_total",
			Help: "Rows imported, by dataset kind."}, []string{"kind"}),
		importDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "custkpi_import_duration_seconds",
			Help: "Time an import's write took, by dataset kind and outcome (ok|refused).", Buckets: importBuckets},
			[]string{"kind", "outcome"}),
		jobsFinished: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "custkpi_jobs_finished_total",
			Help: "Background jobs that ended, by kind and final state (succeeded, failed, cancelled)."}, []string{"kind", "state"}),
	}
	info := buildinfo.Read()
	build := prometheus.NewGauge(prometheus.GaugeOpts{Name: "custkpi_build_info", Help: "Always 1; the labels name the build.",
		ConstLabels: prometheus.Labels{"version": info.Version, "revision": info.Revision, "go_version": info.GoVersion}})
	build.Set(1)
	reg.MustRegister(m.httpRequests, m.httpDuration, m.inFlight, m.kpiDuration, m.kpiErrors, m.cacheHits, m.cacheMisses,
		m.importRows, m.importDuration, m.jobsFinished, build, (*jobsCollector)(m), (*memoryCollector)(m))
	return m
}

// Handler serves the registry in the Prometheus text format. A collector
// that fails (DuckDB's memory not readable in time) leaves its metric out
// rather than failing the scrape.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError, Registry: m.reg})
}

// RequestStarted counts a request in flight; call the function it returns
// when it is answered.
func (m *Metrics) RequestStarted() (done func()) {
	m.inFlight.Inc()
	return m.inFlight.Dec
}

// Request records an answered request. route is the route template, never
// the raw path (whose ids would make a label value per customer).
func (m *Metrics) Request(method, route string, status int, elapsed time.Duration) {
	if route == "" {
		route = "unmatched"
	}
	code := strconv.Itoa(status)
	m.httpRequests.WithLabelValues(method, route, code).Inc()
	m.httpDuration.WithLabelValues(method, route, code).Observe(elapsed.Seconds())
}

// KPIQuery implements engine.Observer.
func (m *Metrics) KPIQuery(kpi string, cached bool, elapsed time.Duration, err error) {
	if err != nil {
		code := string(fault.ErrorCode(err))
		if code == "" {
			code = "internal"
		}
		m.kpiErrors.WithLabelValues(kpi, code).Inc()
		return
	}
	cache := "miss"
	if cached {
		cache = "hit"
		m.cacheHits.WithLabelValues(kpi).Inc()
	} else {
		m.cacheMisses.WithLabelValues(kpi).Inc()
	}
	m.kpiDuration.WithLabelValues(kpi, cache).Observe(elapsed.Seconds())
}

// Import implements engine.Observer.
func (m *Metrics) Import(kind string, rows int64, elapsed time.Duration, err error) {
	outcome := "ok"
	if err != nil {
		outcome = "refused"
	}
	m.importRows.WithLabelValues(kind).Add(float64(rows))
	m.importDuration.WithLabelValues(kind, outcome).Observe(elapsed.Seconds())
}

// JobFinished records a job's end.
func (m *Metrics) JobFinished(kind, state string) {
	m.jobsFinished.WithLabelValues(kind, state).Inc()
}

// WatchJobs sets where a scrape reads the jobs queued and running, by
// state.
func (m *Metrics) WatchJobs(active func() map[string]int) { m.jobs.Store(&active) }

// WatchMemory sets how a scrape reads DuckDB's memory.
func (m *Metrics) WatchMemory(read func(context.Context) (inUse, temporary int64, err error)) {
	m.memory.Store(&read)
}

// jobsCollector reports custkpi_jobs{state} at scrape time.
type jobsCollector Metrics

var jobsDesc = prometheus.NewDesc("custkpi_jobs", "Background jobs queued or running now, by state.", []string{"state"}, nil)

func (c *jobsCollector) Describe(ch chan<- *prometheus.Desc) { ch <- jobsDesc }

func (c *jobsCollector) Collect(ch chan<- prometheus.Metric) {
	f := c.jobs.Load()
	if f == nil {
		return
	}
	for state, n := range (*f)() {
		ch <- prometheus.MustNewConstMetric(jobsDesc, prometheus.GaugeValue, float64(n), state)
	}
}

// memoryCollector reads DuckDB's memory at scrape time, bounded by
// MemoryTimeout.
type memoryCollector Metrics

var (
	memoryDesc = prometheus.NewDesc("custkpi_duckdb_memory_bytes",
		"Memory DuckDB's buffer manager holds (duckdb_memory(), all components).", nil, nil)
	temporaryDesc = prometheus.NewDesc("custkpi_duckdb_temporary_storage_bytes",
		"What DuckDB has spilled to its temporary directory.", nil, nil)
)

func (c *memoryCollector) Describe(ch chan<- *prometheus.Desc) { ch <- memoryDesc; ch <- temporaryDesc }

func (c *memoryCollector) Collect(ch chan<- prometheus.Metric) {
	f := c.memory.Load()
	if f == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), MemoryTimeout)
	defer cancel()
	inUse, temporary, err := (*f)(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(memoryDesc, err)
		return
	}
	ch <- prometheus.MustNewConstMetric(memoryDesc, prometheus.GaugeValue, float64(inUse))
	ch <- prometheus.MustNewConstMetric(temporaryDesc, prometheus.GaugeValue, float64(temporary))
}
