package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"custkpi/engine"
)

// dbFlags are the flags of every command that opens a database.
type dbFlags struct {
	path          string
	timeout       time.Duration
	jobTimeout    time.Duration
	maxResultRows int64
	threads       int
	memory        string
	// mustExist: the command only reads, so a missing file is an error
	// rather than a new empty database answering zeros.
	mustExist bool
	// noCache: keep no KPI results (custkpi bench times the work).
	noCache bool
	// warm: compute the default scorecard in the background after each
	// import (a server's first scorecard request then finds it stored).
	warm bool
	// serverHint: the command can be sent to a server instead, so a
	// database locked by one says how (set by withBackend).
	serverHint bool
	// minDate, maxDate: the range of dates an import accepts
	// (registerDateRange; "" keeps the engine's default).
	minDate, maxDate string
	// observer hears the engine's queries and imports (the server's
	// metrics); nil for none.
	observer engine.Observer
}

// registerDateRange adds --min-date and --max-date, for the commands that
// import (serve for its API's imports).
func (f *dbFlags) registerDateRange(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.minDate, "min-date", "", "imports refuse dates and timestamps before it (default 1900-01-01)")
	cmd.Flags().StringVar(&f.maxDate, "max-date", "", "imports refuse dates and timestamps on or after it (default 2200-01-01)")
}

// dateRange parses --min-date and --max-date.
func (f *dbFlags) dateRange() (lo, hi time.Time, err error) {
	if f.minDate != "" {
		if lo, err = engine.ParseDate("min-date", f.minDate); err != nil {
			return
		}
	}
	if f.maxDate != "" {
		if hi, err = engine.ParseDate("max-date", f.maxDate); err != nil {
			return
		}
	}
	if !lo.IsZero() && !hi.IsZero() && !lo.Before(hi) {
		err = fmt.Errorf("--min-date %s is not before --max-date %s", f.minDate, f.maxDate)
	}
	return
}

// register adds the flags of a command that writes: it creates the database
// when absent.
func (f *dbFlags) register(cmd *cobra.Command, defaultPath string) {
	f.registerFlags(cmd, defaultPath, "DuckDB database file (created when absent; '' or :memory: for in-memory)")
}

// registerExisting adds the flags of a command that only reads: the
// database must exist.
func (f *dbFlags) registerExisting(cmd *cobra.Command, defaultPath string) {
	f.mustExist = true
	f.registerFlags(cmd, defaultPath, "DuckDB database file; must exist (custkpi demo or custkpi import creates one)")
}

func (f *dbFlags) registerFlags(cmd *cobra.Command, defaultPath, usage string) {
	cmd.Flags().StringVar(&f.path, "db", defaultPath, usage)
	cmd.Flags().DurationVar(&f.timeout, "timeout", 60*time.Second, "deadline of every read request from its entry (planning, statements, the Go rule path); a query past it is interrupted inside DuckDB")
	cmd.Flags().DurationVar(&f.jobTimeout, "job-timeout", engine.DefaultJobTimeout, "deadline of an import, rule-set evaluation or CLV fit, as a job or within its request (waiting for the write lock included)")
	cmd.Flags().Int64Var(&f.maxResultRows, "max-result-rows", engine.DefaultMaxResultRows, "refuse a KPI request whose answer could have more rows (periods × distinct values of each by= dimension) before it runs; 0: no cap")
	cmd.Flags().IntVar(&f.threads, "threads", 0, "DuckDB threads (0: one per core)")
	cmd.Flags().StringVar(&f.memory, "memory-limit", "", "DuckDB memory limit, past which it spills to its temp directory (default half of the machine's memory, at most "+engine.DefaultMemoryLimit+" for a file; 'duckdb': DuckDB's 80% of RAM)")
}

func (f *dbFlags) open(ctx context.Context, log *slog.Logger) (*engine.Engine, error) {
	minTime, maxTime, err := f.dateRange()
	if err != nil {
		return nil, err
	}
	maxRows := f.maxResultRows
	if maxRows == 0 {
		maxRows = -1 // the flag's 0 is no cap
	}
	jobTimeout := f.jobTimeout
	if jobTimeout == 0 {
		jobTimeout = -1
	}
	cache := 0
	if f.noCache {
		cache = -1
	}
	eng, err := engine.Open(ctx, engine.Options{CacheEntries: cache, WarmScorecard: f.warm, Path: f.path, QueryTimeout: f.timeout, JobTimeout: jobTimeout, MaxResultRows: maxRows,
		Threads: f.threads, MemoryLimit: f.memory, MustExist: f.mustExist, MinTime: minTime, MaxTime: maxTime, Logger: log, Observer: f.observer})
	if err != nil {
		return nil, explainOpenError(f.path, err, f.serverHint)
	}
	return eng, nil
}

// explainOpenError tells a CLI user what to do about the two ways a good
// command line fails to open its database; other errors pass unchanged.
// viaServer: the command takes --server, so it can go to the server that
// holds the file.
func explainOpenError(path string, err error, viaServer bool) error {
	var locked *engine.LockedError
	switch {
	case errors.Is(err, engine.ErrNoDatabase):
		return fmt.Errorf("%w: create it first with `custkpi demo --db %s` or `custkpi import --db %s KIND FILE`", err, path, path)
	case errors.As(err, &locked) && viaServer:
		// DuckDB lets one process open a file at a time; the holder is most
		// likely a running `custkpi serve`, which answers the same command
		// over HTTP.
		return fmt.Errorf("%w: the database is in use by another custkpi process, e.g. a running `custkpi serve`; "+
			"send this command to that server's API with --server URL (or CUSTKPI_SERVER=URL), e.g. --server http://127.0.0.1:8080, or stop it", err)
	case errors.As(err, &locked):
		return fmt.Errorf("%w: the database is in use by another custkpi process, e.g. a running `custkpi serve`; "+
			"stop it, or send the request to that server's API", err)
	}
	return err
}

// withEngine opens the database, runs fn and closes it. A caller-fault
// error gets its machine details appended, so the CLI says what the API says.
func (f *dbFlags) withEngine(cmd *cobra.Command, fn func(*engine.Engine) error) error {
	eng, err := f.open(cmd.Context(), newLogger(cmd))
	if err != nil {
		return err
	}
	defer eng.Close()
	return describeError(fn(eng))
}

// windowFlags are --from and --to.
type windowFlags struct{ from, to string }

func (w *windowFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&w.from, "from", "", "window start, inclusive (YYYY-MM-DD; default: the 12 months before the month after the latest order)")
	cmd.Flags().StringVar(&w.to, "to", "", "window end, exclusive (YYYY-MM-DD)")
}

func (w *windowFlags) parse() (from, to time.Time, err error) {
	if w.from != "" {
		if from, err = engine.ParseDate("from", w.from); err != nil {
			return
		}
	}
	if w.to != "" {
		to, err = engine.ParseDate("to", w.to)
	}
	return
}

func newRootCommand() *cobra.Command {
	g := &globalFlags{logFormat: "text", logLevel: "info"}
	root := &cobra.Command{
		Use:           "custkpi",
		Short:         "Customer KPIs computed in embedded DuckDB, served over a JSON API",
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          cobra.NoArgs,
		// Flags, then environment, then config file: every command runs
		// with its settings resolved (see config.go).
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return applySettings(cmd, g.config)
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			if g.version {
				return printVersion(cmd)
			}
			return cmd.Help()
		},
	}
	g.register(root)
	root.AddCommand(newServeCommand(g), newKeysCommand(g), newDemoCommand(g), newImportCommand(g), newKPICommand(g), newScorecardCommand(g), newBenchCommand(g),
		newRulesCommand(g), newCLVCommand(g), newCheckCommand(g), newVersionCommand())
	root.AddCommand(newKPIsCommand(g, "kpis")) // the catalog; exit codes and usage errors in cli.go
	documentSettings(root)
	configureCLI(root)
	return root
}

// Environment variables standing for --server and --key.
const (
	serverEnv = "CUSTKPI_SERVER"
	keyEnv    = "CUSTKPI_KEY"
)

// globalFlags are the root's persistent flags.
type globalFlags struct {
	quiet     bool
	server    string
	key       string
	config    string
	logFormat string
	logLevel  string
	version   bool
}

func (g *globalFlags) register(root *cobra.Command) {
	pf := root.PersistentFlags()
	pf.BoolVarP(&g.quiet, "quiet", "q", false, "show no progress on stderr (results still go to stdout)")
	pf.StringVar(&g.server, "server", "", "send the command to a running custkpi serve at this URL instead of opening --db")
	pf.StringVar(&g.key, "key", "", "API key for --server, sent as Authorization: Bearer")
	pf.StringVar(&g.config, "config", "", "config file of settings, YAML or TOML (see below) [$"+configEnv+"]")
	pf.Var(newChoice(&g.logFormat, "text", "json"), "log-format", "log lines on stderr as text (key=value) or json (one object per line)")
	pf.Var(newChoice(&g.logLevel, "debug", "info", "warn", "error"), "log-level", "least severe log lines shown: debug, info, warn or error")
	root.Flags().BoolVar(&g.version, "version", false, "print the version and exit (as `custkpi version`)")
}

// progress is the display of the command's progress on its stderr.
func (g *globalFlags) progress(cmd *cobra.Command) *progressDisplay {
	return newProgress(cmd.ErrOrStderr(), g.quiet)
}

// serverURL is the server a data command goes to, "" for the database
// file: --server, else $CUSTKPI_SERVER unless --db was given (an explicit
// file wins over the environment; an empty --server forces the file).
func (g *globalFlags) serverURL(cmd *cobra.Command) (string, error) {
	dbGiven := cmd.Flags().Changed("db")
	if cmd.Flags().Changed("server") {
		if dbGiven && g.server != "" {
			return "", usage(errors.New("--server and --db both given: the command goes to one of them"))
		}
		return g.server, nil
	}
	if dbGiven {
		return "", nil
	}
	return g.server, nil // from $CUSTKPI_SERVER or the config file, if any
}

func (g *globalFlags) apiKey(*cobra.Command) string { return g.key }

// refuseServer is for the commands that need the file itself (serve, demo,
// check): an explicit --server there is a mistake, not something to ignore.
func (g *globalFlags) refuseServer(cmd *cobra.Command) error {
	if cmd.Flags().Changed("server") && g.server != "" {
		return usage(fmt.Errorf("%s works on a database file (--db), not through --server", cmd.CommandPath()))
	}
	return nil
}

// withBackend runs fn against the server the command is sent to, or else
// the database file, with progress (nil for none) reported to p. Errors
// print alike either way.
func (g *globalFlags) withBackend(cmd *cobra.Command, db *dbFlags, p engine.Progress, fn func(ctx context.Context, b backend) error) error {
	server, err := g.serverURL(cmd)
	if err != nil {
		return err
	}
	if server != "" {
		c, err := newClient(server, g.apiKey(cmd), p)
		if err != nil {
			return err
		}
		return describeError(fn(cmd.Context(), c))
	}
	db.serverHint = true
	return db.withEngine(cmd, func(eng *engine.Engine) error {
		ctx := cmd.Context()
		if p != nil {
			ctx = engine.WithProgress(ctx, p)
		}
		return fn(ctx, local{eng})
	})
}

// splitList reads a comma-separated flag value such as --by "region, segment":
// items are trimmed and empty ones dropped, as the API reads by=.
func splitList(s string) []string {
	var out []string
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// parsePairs reads key=value flag values (--param, --map). Spaces around the
// key and the value are dropped, so "order_date = created_at" works, and
// blank items are skipped (a trailing comma in --map); the value is otherwise
// kept whole (it may hold commas or '=').
func parsePairs(flag, want string, items []string) (map[string]string, error) {
	pairs := make(map[string]string, len(items))
	for _, item := range items {
		if strings.TrimSpace(item) == "" {
			continue
		}
		k, v, ok := strings.Cut(item, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || k == "" {
			return nil, fmt.Errorf("%s %q: want %s", flag, item, want)
		}
		pairs[k] = v
	}
	return pairs, nil
}
