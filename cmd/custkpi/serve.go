package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"

	"custkpi/api"
	"custkpi/engine"
)

// Server is a running API over an engine: what `serve` and `demo` run, and
// what the end-to-end test starts and stops. It may listen before its engine
// is open (recovery after a crash can take a while): until SetEngine, it
// answers /readyz and every API call with 503 not_ready, /v1/health with
// "starting".
type Server struct {
	Log *slog.Logger
	// API configures the handlers (import folders, protected mode, limits,
	// CORS, the job timeout).
	API api.Options
	// AllowedHosts are the Host headers answered, every other 421 (nil:
	// api.DefaultAllowedHosts of the listen address).
	AllowedHosts []string

	listener net.Listener
	http     *http.Server
	handler  atomic.Pointer[http.Handler]
}

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
	s.http = &http.Server{
		// The Host check guards everything, the answers while the database
		// opens (/readyz, /v1/health) included.
		Handler:           api.HostGuard(hosts, http.HandlerFunc(s.serveHTTP)),
		ReadHeaderTimeout: 10 * time.Second,
	}
	return nil
}

// SetEngine starts answering with the API over eng.
func (s *Server) SetEngine(eng *engine.Engine) {
	opts := s.API
	opts.Logger = s.Log
	h := api.New(eng, opts).Handler()
	s.handler.Store(&h)
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
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

// Serve answers until ctx is done, then shuts down gracefully: in-flight
// requests get up to 10 seconds, their queries carry their own contexts.
func (s *Server) Serve(ctx context.Context) error {
	errc := make(chan error, 1)
	go func() { errc <- s.http.Serve(s.listener) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.Log.Info("shutting down")
	shut, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := s.http.Shutdown(shut); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
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
			log := newLogger()
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
			eng, err := db.open(ctx, log)
			if err != nil {
				cancel()
				<-served
				return err
			}
			defer eng.Close()
			if err := refuseOpenServer(srv.Addr(), eng, srv.API.Insecure); err != nil {
				cancel()
				<-served
				return err
			}
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

// webFlags are the browser-safety flags of a command that serves.
type webFlags struct {
	allowedHosts []string
	api          api.Options
}

func (w *webFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringArrayVar(&w.allowedHosts, "allowed-host", nil, "Host header the server answers (repeatable; a name for any port, or name:port; '*' any); "+
		"default: localhost, 127.0.0.1 and [::1] with any port, and the listen address. Others get 421 (DNS rebinding)")
	cmd.Flags().StringArrayVar(&w.api.CORSOrigins, "cors-origin", nil, "origin whose browser scripts may read answers (CORS; repeatable, e.g. https://bi.example.com); none by default")
	cmd.Flags().StringArrayVar(&w.api.ImportDirs, "import-dir", nil, "folder imports by server path may read from (repeatable; none: only uploads)")
	cmd.Flags().BoolVar(&w.api.Insecure, "insecure", false, "without API keys, answer clients on any address as admin (only for a closed network)")
	cmd.Flags().Int64Var(&w.api.MaxUploadBytes, "max-upload", api.DefaultMaxUpload, "largest upload in bytes; larger answers 413")
}

func (w *webFlags) server(log *slog.Logger, db *dbFlags) *Server {
	opts := w.api
	opts.JobTimeout = db.jobTimeout
	s := &Server{Log: log, API: opts}
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
	fmt.Fprintf(w, "  Swagger UI:   %s/swagger/index.html\n", base)
	fmt.Fprintf(w, "  health:       %s/v1/health\n", base)
	fmt.Fprintf(w, "  example KPI:  %s/v1/kpis/revenue/values?grain=month&by=region\n", base)
	fmt.Fprintf(w, "  example KPI:  %s/v1/kpis/churn_rate/values?grain=quarter&by=segment\n", base)
	fmt.Fprintf(w, "Ctrl-C stops it.\n")
}
