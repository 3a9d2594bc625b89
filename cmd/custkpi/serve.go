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
	s.http = &http.Server{
		Handler:           http.HandlerFunc(s.serveHTTP),
		ReadHeaderTimeout: 10 * time.Second,
	}
	return nil
}

// SetEngine starts answering with the API over eng.
func (s *Server) SetEngine(eng *engine.Engine) {
	h := api.New(eng, api.Options{Logger: s.Log}).Handler()
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
			srv := &Server{Log: log}
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
			srv.SetEngine(eng)
			log.Info("ready", "generation", eng.Generation())
			return <-served
		},
	}
	db.register(cmd, "custkpi.duckdb")
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:8080", "listen address")
	db.registerDateRange(cmd)
	return cmd
}

// serveAPI serves eng on addr until ctx is done, after printing the URLs
// (the first line names the bound address; the end-to-end test reads it).
func serveAPI(ctx context.Context, out io.Writer, eng *engine.Engine, log *slog.Logger, addr string) error {
	srv := &Server{Log: log}
	if err := srv.Listen(addr); err != nil {
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
