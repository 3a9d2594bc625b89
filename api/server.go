package api

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"custkpi/buildinfo"
	"custkpi/docs"
	"custkpi/engine"
	"custkpi/engine/clv"
	"custkpi/jobs"
	"custkpi/metrics"
	"custkpi/queries"
	"custkpi/web"
)

// Engine is what the handlers need of the engine (consumer-side, so tests
// can substitute a fake where the real engine is not the point).
type Engine interface {
	Health(ctx context.Context) (*engine.Health, error)
	Generation() int64
	HasKeys() bool
	Authenticate(presented string) (*engine.Principal, bool)
	CreateKey(ctx context.Context, name, role string, scope engine.Scope) (*engine.NewKey, error)
	Keys(ctx context.Context) ([]engine.Key, error)
	RevokeKey(ctx context.Context, id string) error
	Audit(ctx context.Context, r engine.AuditRecord) error
	AuditLog(ctx context.Context, limit int) ([]engine.AuditRecord, error)
	Catalog() *engine.Catalog
	Dimensions(ctx context.Context, d *queries.Definition) ([]string, error)
	Run(ctx context.Context, q engine.Query) (*engine.Result, error)
	Import(ctx context.Context, req engine.ImportRequest) (*engine.ImportResult, error)
	Datasets() []*engine.DatasetInfo
	ImportHistory(ctx context.Context, limit int) ([]engine.ImportRecord, error)
	Customers(ctx context.Context, q engine.CustomerQuery) (*engine.CustomerPage, error)
	ExportCustomers(ctx context.Context, where string, w engine.TableWriter) error
	Customer(ctx context.Context, id string) (*engine.CustomerDetail, error)
	Variance(ctx context.Context, q engine.Query) (*engine.Variance, error)
	Diff(ctx context.Context, q engine.Query, fromVersion, toVersion int) (*engine.Diff, error)
	SetTarget(ctx context.Context, t engine.Target) (*engine.Target, error)
	Targets(ctx context.Context, kpi string) ([]engine.Target, error)
	DeleteTargets(ctx context.Context, kpi string, by map[string]string, onlyScope bool) (int64, error)
	FitCLV(ctx context.Context, req engine.CLVFitRequest) (*engine.CLVFit, error)
	LastCLVFit(ctx context.Context) (*engine.CLVFit, error)
	CompareCLV(ctx context.Context, req engine.CLVCompareRequest) (*clv.Comparison, error)
	PAliveMatrix(ctx context.Context, o clv.MatrixOptions) (*clv.AliveMatrix, error)
	FitRetention(ctx context.Context, req engine.RetentionRequest) (*engine.RetentionFit, error)
	RuleSets(ctx context.Context) ([]engine.RuleSetInfo, error)
	RuleSet(ctx context.Context, name string, version int) (*engine.RuleSetInfo, error)
	SaveRuleSet(ctx context.Context, name string, doc []byte) (*engine.RuleSetInfo, error)
	ValidateRuleSet(ctx context.Context, doc []byte) (*engine.RuleSetCheck, error)
	EvaluateRuleSet(ctx context.Context, name string, version int, asOf time.Time, forceGo bool) (*engine.Evaluation, error)
	Assignments(ctx context.Context, ruleset string, version int, tier string, limit, offset int) (*engine.CustomerPage, error)
	RuleSetTransitions(ctx context.Context, name string, fromVersion, toVersion int, fromAsOf, toAsOf time.Time) (*engine.Transitions, error)
	// Analyses (api/analyses.go).
	Explain(ctx context.Context, q engine.Query) (*engine.Explanation, error)
	SatisfactionDrivers(ctx context.Context, q engine.DriversQuery) (*engine.SatisfactionDrivers, error)
	ChurnDriversOf(ctx context.Context, from, to time.Time) (*engine.ChurnDrivers, error)
	ScorecardOf(ctx context.Context, q engine.ScorecardQuery) (*engine.Scorecard, error)
	Packs(ctx context.Context) ([]*engine.Pack, error)
	PackByName(ctx context.Context, name string) (*engine.Pack, error)
	SavePack(ctx context.Context, name string, doc []byte) (*engine.Pack, bool, error)
	DeletePack(ctx context.Context, name string) error
	PutAlert(ctx context.Context, name string, spec engine.AlertSpec) (*engine.Alert, error)
	Alerts(ctx context.Context) ([]engine.Alert, error)
	AlertByName(ctx context.Context, name string) (*engine.Alert, error)
	DeleteAlert(ctx context.Context, name string) error
	CheckAlert(ctx context.Context, name string) (*engine.AlertCheck, error)
	AlertDeliveries(ctx context.Context, name string, limit int) ([]engine.Delivery, error)
}

// Options configure the server.
type Options struct {
	Logger *slog.Logger
	// UploadDir is where multipart uploads are staged (default: os.TempDir()).
	UploadDir string
	// MaxUploadBytes bounds an upload (default DefaultMaxUpload); a larger
	// one answers 413.
	MaxUploadBytes int64
	// JobTimeout bounds an import, evaluation or fit, as a job or within
	// its request (default engine.DefaultJobTimeout, 30 minutes).
	JobTimeout time.Duration
	// Insecure answers clients on any address as admin while the database
	// holds no key (serve --insecure). Without it, protected mode answers
	// loopback clients only.
	Insecure bool
	// ImportDirs are the folders imports by server path may read from (the
	// real path, symlinks resolved, must lie inside one); none: imports by
	// path are refused and only uploads work.
	ImportDirs []string
	// CORSOrigins may read answers from a browser (CORS); none by default.
	CORSOrigins []string
	// AllowedHosts, when not nil, are the Host headers answered (see
	// HostGuard); the binary guards its whole listener with them instead.
	AllowedHosts []string
	// Metrics are recorded and served at /metrics (nil: a set of its own,
	// on a registry of its own).
	Metrics *metrics.Metrics
	// MetricsNeedKey puts /metrics behind an API key (any role); by
	// default it is open, like /readyz.
	MetricsNeedKey bool
}

// DefaultMaxUpload is the default bound of an upload: 2 GiB.
const DefaultMaxUpload = 2 << 30

// Server is the HTTP API.
type Server struct {
	eng  Engine
	log  *slog.Logger
	opts Options
	gin  *gin.Engine
	jobs *jobs.Registry
	// handler is gin with compression and HEAD around it.
	handler http.Handler
	// instance names this process in ETags (conditional.go).
	instance string
	// metrics is opts.Metrics, or the server's own.
	metrics *metrics.Metrics
}

// New builds the routes.
func New(eng Engine, opts Options) *Server {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.MaxUploadBytes == 0 {
		opts.MaxUploadBytes = DefaultMaxUpload
	}
	if opts.JobTimeout <= 0 {
		opts.JobTimeout = engine.DefaultJobTimeout
	}
	gin.SetMode(gin.ReleaseMode)
	if opts.Metrics == nil {
		opts.Metrics = newMetrics()
	}
	s := &Server{eng: eng, log: opts.Logger, opts: opts, gin: gin.New(), instance: newInstanceID(), metrics: opts.Metrics}
	s.jobs = jobs.New(jobs.Options{Timeout: opts.JobTimeout, DescribeError: s.describeJobError, OnFinish: s.jobFinished})
	s.wireMetrics()
	r := s.gin
	// observe first, so the metrics see every answer; requestID before
	// the rest, so every log line and error body carries the id.
	r.Use(s.observe, s.requestID, s.recoverJSON, s.logRequests, s.utf8Query)
	if len(opts.CORSOrigins) > 0 {
		r.Use(corsMiddleware(opts.CORSOrigins))
	}
	r.Use(varyHeaders, s.requireBodyType)
	r.HandleMethodNotAllowed = true
	r.NoRoute(func(c *gin.Context) {
		s.fail(c, &httpError{status: http.StatusNotFound, body: ErrorDetail{Code: "not_found",
			Message: "no such endpoint: " + c.Request.Method + " " + c.Request.URL.Path + "; see /swagger/index.html"}})
	})
	r.NoMethod(func(c *gin.Context) {
		s.fail(c, &httpError{status: http.StatusMethodNotAllowed, body: ErrorDetail{Code: "method_not_allowed",
			Message: c.Request.Method + " is not allowed on " + c.Request.URL.Path}})
	})

	// The OpenAPI 3 document, outside /v1 and without a key (it describes
	// the API, not the data); Swagger UI reads it.
	r.GET("/openapi.json", serveDoc("application/json", docs.OpenAPIJSON))
	r.GET("/openapi.yaml", serveDoc("application/yaml", docs.OpenAPIYAML))
	r.GET("/swagger/*any", swaggerUI())
	// The dashboard (web package): its page and files need no key; what
	// it shows comes from /v1 with the browser's session cookie.
	ui := gin.WrapH(web.Handler())
	r.GET("/", ui)
	r.GET("/ui/*file", ui)

	r.GET("/readyz", s.readyz)
	s.metricsRoute(r)
	r.GET("/v1/health", s.health)
	// Logging in and out need no key (session.go).
	r.POST("/v1/session", s.limitBody, s.login)
	r.DELETE("/v1/session", s.logout)
	v1 := r.Group("/v1", s.limitBody, s.authenticate, s.audit, s.requireJSONAccept, s.conditional)
	v1.GET("/session", s.whoami)
	reader, analyst, admin := s.need(engine.RoleReader), s.need(engine.RoleAnalyst), s.need(engine.RoleAdmin)
	v1.GET("/jobs", analyst, s.listJobs)
	v1.GET("/jobs/:id", analyst, s.getJob)
	v1.DELETE("/jobs/:id", analyst, s.cancelJob)
	v1.GET("/datasets", reader, s.listDatasets)
	v1.POST("/datasets/:kind", admin, s.importDataset)
	v1.GET("/kpis", reader, s.listKPIs)
	v1.GET("/kpis/:name", reader, s.getKPI)
	v1.GET("/kpis/:name/values", reader, s.kpiValues)
	v1.GET("/kpis/:name/variance", reader, s.variance)
	v1.GET("/kpis/:name/diff", reader, s.diff)
	v1.GET("/kpis/:name/explain", reader, s.explain)
	v1.GET("/scorecard", reader, s.scorecard)
	v1.GET("/satisfaction/drivers", reader, s.satisfactionDrivers)
	v1.GET("/analyses/churn_drivers", reader, s.churnDrivers)
	v1.GET("/packs", reader, s.listPacks)
	v1.GET("/packs/:name", reader, s.getPack)
	v1.PUT("/packs/:name", analyst, s.putPack)
	v1.DELETE("/packs/:name", analyst, s.deletePack)
	v1.GET("/alerts", analyst, s.listAlerts)
	v1.GET("/alerts/:name", analyst, s.getAlert)
	v1.PUT("/alerts/:name", analyst, s.putAlert)
	v1.DELETE("/alerts/:name", analyst, s.deleteAlert)
	v1.POST("/alerts/:name/check", analyst, s.checkAlert)
	v1.GET("/alerts/:name/deliveries", analyst, s.alertDeliveries)
	v1.GET("/targets", reader, s.listTargets)
	v1.GET("/targets/:kpi", reader, s.getTargets)
	v1.PUT("/targets/:kpi", analyst, s.putTarget)
	v1.DELETE("/targets/:kpi", analyst, s.deleteTargets)
	v1.GET("/rulesets", reader, s.listRuleSets)
	v1.POST("/rulesets/validate", analyst, s.validateRuleSet)
	v1.GET("/rulesets/:name", reader, s.getRuleSet)
	v1.PUT("/rulesets/:name", analyst, s.putRuleSet)
	v1.POST("/rulesets/:name/evaluate", analyst, s.evaluateRuleSet)
	v1.GET("/rulesets/:name/assignments", reader, s.assignments)
	v1.GET("/rulesets/:name/transitions", reader, s.transitions)
	v1.POST("/models/clv/fit", analyst, s.fitCLV)
	v1.GET("/models/clv", reader, s.getCLV)
	v1.POST("/models/clv/compare", analyst, s.compareCLV)
	v1.GET("/models/clv/p_alive_matrix", reader, s.pAliveMatrix)
	v1.POST("/models/retention/fit", analyst, s.fitRetention)
	v1.GET("/customers", reader, s.listCustomers)
	v1.GET("/customers/export", reader, s.exportCustomers)
	v1.GET("/customers/:id", reader, s.getCustomer)
	v1.POST("/keys", admin, s.createKey)
	v1.GET("/keys", admin, s.listKeys)
	v1.DELETE("/keys/:id", admin, s.revokeKey)
	v1.GET("/audit", admin, s.auditLog)

	compressed, err := compression(r)
	if err != nil {
		panic(err) // fixed options: a failure is a bug
	}
	s.handler = headAsGet(compressed)
	return s
}

// Handler is the http.Handler of the API.
func (s *Server) Handler() http.Handler {
	if s.opts.AllowedHosts != nil {
		return HostGuard(s.opts.AllowedHosts, s.handler)
	}
	return s.handler
}

// serveDoc answers a document embedded in the binary.
func serveDoc(contentType string, body []byte) gin.HandlerFunc {
	return func(c *gin.Context) { c.Data(http.StatusOK, contentType, body) }
}

// recoverJSON turns a panic into a logged 500 with the JSON error body. A
// panic is a bug; the client still gets the documented shape.
func (s *Server) recoverJSON(c *gin.Context) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v) // a stream cut on purpose: net/http drops the connection
			}
			s.log.Error("panic", "path", c.Request.URL.Path, "request_id", requestIDOf(c), "panic", v)
			c.Abort()
			uncacheable(c)
			c.Data(http.StatusInternalServerError, "application/json; charset=utf-8", internalBody)
		}
	}()
	c.Next()
	// A handler that failed without answering (an error gin recorded,
	// such as a render that could not encode) still gets the error body.
	if !c.Writer.Written() && len(c.Errors) > 0 {
		s.log.Error("no answer written", "path", c.Request.URL.Path, "request_id", requestIDOf(c), "err", c.Errors.Last())
		uncacheable(c)
		c.Data(http.StatusInternalServerError, "application/json; charset=utf-8", internalBody)
	}
}

// utf8Query refuses a query string whose names or values are not UTF-8
// (%ff decodes to a byte no text column holds): a bad parameter is a 400
// naming it, before it can reach DuckDB, which refuses such text as it
// runs (FuzzKPIValues found weights=%e2 answering 500).
func (s *Server) utf8Query(c *gin.Context) {
	for k, vs := range c.Request.URL.Query() {
		for _, v := range append([]string{k}, vs...) {
			if !utf8.ValidString(v) {
				s.fail(c, badRequest("invalid_parameter", fmt.Sprintf("invalid parameter %q: %q is not valid UTF-8 text", k, v),
					map[string]any{"parameter": k}))
				return
			}
		}
	}
	c.Next()
}

func (s *Server) logRequests(c *gin.Context) {
	start := time.Now()
	c.Next()
	s.log.Info("request", "method", requestMethod(c), "path", c.Request.URL.Path, "query", c.Request.URL.RawQuery,
		"status", c.Writer.Status(), "elapsed", time.Since(start), "request_id", requestIDOf(c))
}

// HealthResponse is GET /v1/health.
type HealthResponse struct {
	Status string `json:"status" example:"ok"`
	// Version is the build's module version ("(devel)" from a checkout),
	// Revision and RevisionTime its commit ("" when the build was not
	// stamped with it), GoVersion its toolchain.
	Version       string                         `json:"version" example:"(devel)"`
	Revision      string                         `json:"revision" example:"c7b26a3f0e2d9b1c4a5e6f708192a3b4c5d6e7f8"`
	RevisionTime  string                         `json:"revision_time" example:"2025-01-31T12:00:00Z"`
	GoVersion     string                         `json:"go_version" example:"go1.26.8"`
	DuckDBVersion string                         `json:"duckdb_version" example:"v1.4.5"`
	Datasets      map[string]*engine.DatasetInfo `json:"datasets"`
}

// health godoc
//
//	@ID				getHealth
//	@Summary		Health
//	@Description	The build (version, revision, Go version), the DuckDB version and the datasets loaded.
//	@Tags			system
//	@Produce		json
//	@Success		200	{object}	HealthResponse
//	@Header			200	{string}	Vary	"Accept, Accept-Encoding"
//	@Router			/health [get]
func (s *Server) health(c *gin.Context) {
	h, err := s.eng.Health(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return
	}
	b := buildinfo.Read()
	s.writeJSON(c, http.StatusOK, HealthResponse{Status: "ok", Version: b.Version, Revision: b.Revision, RevisionTime: b.Time,
		GoVersion: b.GoVersion, DuckDBVersion: h.DuckDBVersion, Datasets: h.Datasets})
}

// ReadyResponse is GET /readyz.
type ReadyResponse struct {
	Status     string `json:"status" example:"ready"`
	Generation int64  `json:"generation" example:"12"`
}

// readyz answers 200 once the database is open and any recovery after a
// crash is done, with the generation the server answers from. (While the
// database opens, the binary itself answers 503 not_ready.) It is outside
// /v1, so it is not in the OpenAPI document, like /metrics will be.
func (s *Server) readyz(c *gin.Context) {
	s.writeJSON(c, http.StatusOK, ReadyResponse{Status: "ready", Generation: s.eng.Generation()})
}
