package api

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"custkpi/engine"
	"custkpi/jobs"
	"custkpi/metrics"
)

// ErrShuttingDown is the cause with which the binary cancels the requests
// still running when its shutdown grace is over: the error they end with
// is then answered 503 shutting_down (see fail), not as the client's
// cancellation.
var ErrShuttingDown = errors.New("the server is shutting down")

// ShuttingDownBody is the answer to a request refused or cut short by a
// shutdown.
var ShuttingDownBody = []byte(`{"error":{"code":"shutting_down","message":"the server is shutting down; try again shortly (another instance, or this one once restarted)"}}`)

// shuttingDown tells whether the request was cancelled by the shutdown.
func shuttingDown(c *gin.Context) bool {
	return errors.Is(context.Cause(c.Request.Context()), ErrShuttingDown)
}

// observe records every request in the metrics by its route template
// (gin's FullPath, so /v1/customers/:id is one series, not one per id).
// It runs first, so the status it sees is the final one, a recovered panic's
// 500 included.
func (s *Server) observe(c *gin.Context) {
	start := time.Now()
	done := s.metrics.RequestStarted()
	defer done()
	c.Next()
	s.metrics.Request(c.Request.Method, c.FullPath(), c.Writer.Status(), time.Since(start))
}

// wireMetrics connects what a scrape reads at its moment: the jobs queued
// and running, and DuckDB's memory when the engine can tell it.
func (s *Server) wireMetrics() {
	s.metrics.WatchJobs(s.jobs.Active)
	if m, ok := s.eng.(interface {
		Memory(context.Context) (engine.Memory, error)
	}); ok {
		s.metrics.WatchMemory(func(ctx context.Context) (int64, int64, error) {
			mem, err := m.Memory(ctx)
			return mem.InUse, mem.Temporary, err
		})
	}
}

// jobFinished counts a job's end in the metrics.
func (s *Server) jobFinished(j jobs.Job) { s.metrics.JobFinished(j.Kind, j.State) }

// metricsRoute serves /metrics, outside /v1 like /readyz: open by default
// (API.md), or behind an API key of any role with MetricsNeedKey.
func (s *Server) metricsRoute(r *gin.Engine) {
	h := gin.WrapH(s.metrics.Handler())
	if s.opts.MetricsNeedKey {
		r.GET("/metrics", s.authenticate, s.need(engine.RoleReader), h)
		return
	}
	r.GET("/metrics", h)
}

// StopJobs cancels the background jobs and waits for them, for a server
// shutting down: a cancelled job writes nothing, so none is cut off halfway
// by the database closing under it.
func (s *Server) StopJobs() { s.jobs.CancelAll() }

// newMetrics is a fresh set of metrics on its own registry, for a server
// built without one (tests): every server has /metrics.
func newMetrics() *metrics.Metrics { return metrics.New(prometheus.NewRegistry()) }

// failShutdown answers a request cut short by the shutdown: 503
// shutting_down whatever error its cancellation surfaced as.
func (s *Server) failShutdown(c *gin.Context) {
	c.Header("Retry-After", retryAfterSeconds)
	c.Header("Connection", "close")
	c.Abort()
	c.Data(http.StatusServiceUnavailable, "application/json; charset=utf-8", ShuttingDownBody)
}
