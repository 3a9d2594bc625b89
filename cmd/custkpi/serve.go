package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/spf13/cobra"

	"custkpi/api"
	"custkpi/engine"
	"custkpi/metrics"
)

// Server is a running API over an engine: what `serve` and `demo` run, and
// what the end-to-end test starts and stops. It may listen before its engine
// is open (recovery after a crash can take a while): until SetEngine, it
// answers /readyz and every API call with 503 not_ready, /v1/health with
// "starting".
type Server struct {
	Log *slog.Logger
	// API configures the handlers (import folders, protected mode, limits,
	// CORS, the job timeout, the metrics).
	API api.Options
	// AllowedHosts are the Host headers answered, every other 421 (nil:
	// api.DefaultAllowedHosts of the listen address).
	AllowedHosts []string
	// ShutdownGrace is how long the requests in flight at a shutdown may
	// run on; those still running then are cancelled and answered 503
	// shutting_down (0: DefaultShutdownGrace).
	ShutdownGrace time.Duration

	listener net.Listener
	http     *http.Server
	handler  atomic.Pointer[http.Handler]
	api      atomic.Pointer[api.Server]
	// base is the context of every request; the end of the grace cancels
	// it with api.ErrShuttingDown.
	base       context.Context
	cancelBase context.CancelCauseFunc
	flight     inFlight
}

// DefaultShutdownGrace is ShutdownGrace's default when nothing sets it.
const DefaultShutdownGrace = 65 * time.Second

// answerWait is how long requests cancelled at the end of the grace get to
// write their 503 before their connections are closed.
const answerWait = 5 * time.Second

// Listen binds addr (port 0 picks a free port; Addr tells which).
func (s *Server) Listen(addr string) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", addr, err)
	}
	s.listener = l
	hosts := s.AllowedHosts
	if hosts == nil {
		hosts = append(api.DefaultAllowedHosts(addr), l.Addr().String())
	}
	s.base, s.cancelBase = context.WithCancelCause(context.Background())
	s.http = &http.Server{
		// The Host check guards everything, the answers while the database
		// opens (/readyz, /v1/health) included.
		Handler:           api.HostGuard(hosts, http.HandlerFunc(s.serveHTTP)),
		ReadHeaderTimeout: 10 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return s.base },
	}
	return nil
}

// SetEngine starts answering with the API over eng.
func (s *Server) SetEngine(eng *engine.Engine) {
	opts := s.API
	opts.Logger = s.Log
	a := api.New(eng, opts)
	h := a.Handler()
	s.api.Store(a)
	s.handler.Store(&h)
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	done, ok := s.flight.enter(w)
	if !ok {
		// Shutting down: the listener stays open through the grace so
		// that a new request gets this answer rather than a refused
		// connection.
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Set("Retry-After", "5")
		w.Header().Set("Connection", "close")
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write(api.ShuttingDownBody)
		return
	}
	defer done()
	if h := s.handler.Load(); h != nil {
		(*h).ServeHTTP(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Retry-After", "1")
	if r.URL.Path == "/v1/health" {
		w.Write([]byte(`{"status":"starting"}`))
		return
	}
	w.WriteHeader(http.StatusServiceUnavailable)
	w.Write([]byte(`{"error":{"code":"not_ready","message":"the database is being opened (and recovered, after a crash); try again shortly"}}`))
}

// Addr is the bound address, e.g. 127.0.0.1:8080.
func (s *Server) Addr() string { return s.listener.Addr().String() }

// Serve answers until ctx is done, then shuts down gracefully (drain) and
// returns nil: a shutdown is the normal end of a server.
func (s *Server) Serve(ctx context.Context) error {
	errc := make(chan error, 1)
	go func() { errc <- s.http.Serve(s.listener) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.drain()
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// drain is the shutdown: new requests are answered 503 shutting_down at
// once; those in flight get the grace to finish, then are cancelled (their
// queries interrupted in DuckDB, a stalled upload's read cut) and answered
// 503 shutting_down; background jobs are cancelled (a cancelled job writes
// nothing); then the listener and the idle connections close.
func (s *Server) drain() {
	grace := s.ShutdownGrace
	if grace <= 0 {
		grace = DefaultShutdownGrace
	}
	s.http.SetKeepAlivesEnabled(false)
	drained, n := s.flight.close()
	s.Log.Info("shutting down: new requests are refused", "in_flight", n, "grace", grace.String())
	timer := time.NewTimer(grace)
	defer timer.Stop()
	select {
	case <-drained:
	case <-timer.C:
		s.Log.Warn("shutdown grace over: cancelling the requests still running", "in_flight", s.flight.count())
		s.cancelBase(api.ErrShuttingDown)
		s.flight.cutReads(time.Now().Add(answerWait))
		select {
		case <-drained:
		case <-time.After(answerWait):
			s.Log.Error("requests still running after their cancellation; closing their connections", "in_flight", s.flight.count())
		}
	}
	if a := s.api.Load(); a != nil {
		a.StopJobs()
	}
	shut, cancel := context.WithTimeout(context.Background(), answerWait)
	defer cancel()
	if err := s.http.Shutdown(shut); err != nil {
		s.Log.Error("shutdown", "err", err)
		s.http.Close()
	}
	s.cancelBase(api.ErrShuttingDown)
	s.Log.Info("stopped")
}

// inFlight counts the requests being answered, so a shutdown knows when
// they are done and can cut the connections of those that are not.
type inFlight struct {
	mu       sync.Mutex
	closed   bool
	requests map[*flightEntry]struct{}
	drained  chan struct{}
}

type flightEntry struct{ rc *http.ResponseController }

// enter admits a request, unless the server is shutting down; done must
// be called when it is answered.
func (f *inFlight) enter(w http.ResponseWriter) (done func(), ok bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return nil, false
	}
	if f.requests == nil {
		f.requests = map[*flightEntry]struct{}{}
	}
	e := &flightEntry{rc: http.NewResponseController(w)}
	f.requests[e] = struct{}{}
	return func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		delete(f.requests, e)
		if f.closed && len(f.requests) == 0 {
			close(f.drained)
		}
	}, true
}

// close refuses new requests; drained is closed once none is in flight.
func (f *inFlight) close() (drained <-chan struct{}, n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closed = true
	f.drained = make(chan struct{})
	if len(f.requests) == 0 {
		close(f.drained)
	}
	return f.drained, len(f.requests)
}

func (f *inFlight) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.requests)
}

// cutReads ends the reads of the requests in flight (a client that stalls
// its upload would otherwise hold its handler forever: cancelling a
// context does not interrupt a read from the connection) and bounds their
// writes by writeBy.
func (f *inFlight) cutReads(writeBy time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for e := range f.requests {
		e.rc.SetReadDeadline(time.Now())
		e.rc.SetWriteDeadline(writeBy)
	}
}

func newServeCommand(g *globalFlags) *cobra.Command {
	var db dbFlags
	var addr string
	var web webFlags
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the API over a database",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := g.refuseServer(cmd); err != nil {
				return err
			}
			ctx := cmd.Context()
			log := newLogger(cmd)
			// Listen first: a load balancer sees the process up but not ready
			// (/readyz 503) while the database opens and recovers.
			srv := web.server(log, &db)
			if err := srv.Listen(addr); err != nil {
				return err
			}
			printURLs(cmd.OutOrStdout(), srv.Addr())
			ctx, cancel := context.WithCancel(ctx)
			defer cancel()
			served := make(chan error, 1)
			go func() { served <- srv.Serve(ctx) }()
			db.warm = true
			eng, err := db.open(ctx, log)
			if err != nil {
				stopping := ctx.Err() != nil
				cancel()
				<-served
				if stopping {
					// SIGTERM while the database opened: a clean stop (the
					// open's own transaction rolled back; nothing changed).
					log.Info("stopped before the database was open", "err", err)
					return nil
				}
				return err
			}
			defer eng.Close()
			if err := refuseOpenServer(srv.Addr(), eng, srv.API.Insecure); err != nil {
				cancel()
				<-served
				return err
			}
			eng.ConfigureAlerts(web.alertOptions(srv.Addr()))
			srv.SetEngine(eng)
			log.Info("ready", "generation", eng.Generation())
			return <-served
		},
	}
	db.register(cmd, "custkpi.duckdb")
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:8080", "listen address")
	web.register(cmd)
	db.registerDateRange(cmd)
	return cmd
}

// webFlags are the flags of a command that serves: browser safety,
// metrics, the shutdown grace.
type webFlags struct {
	allowedHosts  []string
	api           api.Options
	shutdownGrace time.Duration
	// Alerts: webhooks may reach loopback and this server's addresses;
	// the base of the link in each webhook body.
	webhookLoopback bool
	publicURL       string
}

// alertOptions evaluates alerts after every import; links in webhook
// bodies start with --public-url, or the listen address.
func (w *webFlags) alertOptions(addr string) engine.AlertOptions {
	base := w.publicURL
	if base == "" {
		base = "http://" + addr
	}
	return engine.AlertOptions{AfterImport: true, AllowLoopback: w.webhookLoopback, BaseURL: base}
}

func (w *webFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringArrayVar(&w.allowedHosts, "allowed-host", nil, "Host header the server answers (repeatable; a name for any port, or name:port; '*' any); "+
		"default: localhost, 127.0.0.1 and [::1] with any port, and the listen address. Others get 421 (DNS rebinding)")
	cmd.Flags().StringArrayVar(&w.api.CORSOrigins, "cors-origin", nil, "origin whose browser scripts may read answers (CORS; repeatable, e.g. https://bi.example.com); none by default")
	cmd.Flags().StringArrayVar(&w.api.ImportDirs, "import-dir", nil, "folder imports by server path may read from (repeatable; none: only uploads)")
	cmd.Flags().BoolVar(&w.api.Insecure, "insecure", false, "without API keys, answer clients on any address as admin (only for a closed network)")
	cmd.Flags().Int64Var(&w.api.MaxUploadBytes, "max-upload", api.DefaultMaxUpload, "largest upload in bytes; larger answers 413")
	cmd.Flags().BoolVar(&w.webhookLoopback, "webhook-allow-loopback", false, "alert webhooks may call loopback, link-local and this server's own addresses (refused by default)")
	cmd.Flags().StringVar(&w.publicURL, "public-url", "", "the server's address as people reach it, for the links in alert webhooks (default: http:// and the listen address)")
	cmd.Flags().BoolVar(&w.api.MetricsNeedKey, "metrics-auth", false, "/metrics needs an API key (any role), as /v1 does; by default it is open, like /readyz")
	cmd.Flags().DurationVar(&w.shutdownGrace, "shutdown-grace", 0, "on SIGTERM or SIGINT, how long requests in flight may run on while new ones get 503 shutting_down; "+
		"those still running then are cancelled and answered 503 (default: --timeout + 5s, so every read ends within its own deadline)")
}

// server is the server the flags describe, with a fresh metrics registry
// (Go and process metrics included) that the engine opened by db reports
// to.
func (w *webFlags) server(log *slog.Logger, db *dbFlags) *Server {
	opts := w.api
	opts.JobTimeout = db.jobTimeout
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	opts.Metrics = metrics.New(reg)
	db.observer = opts.Metrics
	s := &Server{Log: log, API: opts, ShutdownGrace: w.shutdownGrace}
	if s.ShutdownGrace <= 0 && db.timeout > 0 {
		s.ShutdownGrace = db.timeout + answerWait
	}
	if len(w.allowedHosts) > 0 {
		s.AllowedHosts = w.allowedHosts
	}
	return s
}

// refuseOpenServer keeps a server without keys off the network (protected
// mode, as Redis does): on a non-loopback address it needs a key in the
// database, or --insecure.
func refuseOpenServer(addr string, eng *engine.Engine, insecure bool) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	if ip := net.ParseIP(host); (ip != nil && ip.IsLoopback()) || host == "localhost" || insecure || eng.HasKeys() {
		return nil
	}
	return fmt.Errorf("refusing to serve on %s without an API key: anyone who reaches it would be admin. "+
		"Create a key first (custkpi keys create --db FILE --name ops --role admin), or listen on 127.0.0.1, or pass --insecure", addr)
}

// serveAPI serves eng on addr until ctx is done, after printing the URLs
// (the first line names the bound address; the end-to-end test reads it).
func serveAPI(ctx context.Context, out io.Writer, eng *engine.Engine, addr string, srv *Server) error {
	if err := srv.Listen(addr); err != nil {
		return err
	}
	if err := refuseOpenServer(srv.Addr(), eng, srv.API.Insecure); err != nil {
		srv.listener.Close()
		return err
	}
	srv.SetEngine(eng)
	printURLs(out, srv.Addr())
	return srv.Serve(ctx)
}

func printURLs(w io.Writer, addr string) {
	base := "http://" + addr
	fmt.Fprintf(w, "custkpi API on %s\n", base)
	fmt.Fprintf(w, "  dashboard:    %s/\n", base)
	fmt.Fprintf(w, "  Swagger UI:   %s/swagger/index.html\n", base)
	fmt.Fprintf(w, "  health:       %s/v1/health\n", base)
	fmt.Fprintf(w, "  example KPI:  %s/v1/kpis/revenue/values?grain=month&by=region\n", base)
	fmt.Fprintf(w, "  example KPI:  %s/v1/kpis/churn_rate/values?grain=quarter&by=segment\n", base)
	fmt.Fprintf(w, "Ctrl-C stops it.\n")
}
