package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/spf13/cobra"

	"custkpi/api"
	"custkpi/engine"
)

// Server is a running API over an engine: what `serve` and `demo` run, and
// what the end-to-end test starts and stops.
type Server struct {
	Engine *engine.Engine
	Log    *slog.Logger

	listener net.Listener
	http     *http.Server
}

// Listen binds addr (port 0 picks a free port; Addr tells which).
func (s *Server) Listen(addr string) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", addr, err)
	}
	s.listener = l
	s.http = &http.Server{
		Handler:           api.New(s.Engine, api.Options{Logger: s.Log}).Handler(),
		ReadHeaderTimeout: 10 * time.Second,
	}
	return nil
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

func newServeCommand() *cobra.Command {
	var db dbFlags
	var addr string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the API over a database",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			log := newLogger()
			eng, err := db.open(ctx, log)
			if err != nil {
				return err
			}
			defer eng.Close()
			return serveAPI(ctx, cmd.OutOrStdout(), eng, log, addr)
		},
	}
	db.register(cmd, "custkpi.duckdb")
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:8080", "listen address")
	return cmd
}

// serveAPI serves eng on addr until ctx is done, after printing the URLs
// (the first line names the bound address; the end-to-end test reads it).
func serveAPI(ctx context.Context, out io.Writer, eng *engine.Engine, log *slog.Logger, addr string) error {
	srv := &Server{Engine: eng, Log: log}
	if err := srv.Listen(addr); err != nil {
		return err
	}
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
