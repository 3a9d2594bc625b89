package kpi

import (
	"time"

	"custkpi/queries"
)

// Query asks for one KPI over a window.
type Query struct {
	KPI     string
	Version int       // 0: the KPI's default version
	From    time.Time // zero From and To: the default window
	To      time.Time
	Grain   Grain
	By      []string          // dimensions: customer columns, age_band, tier:<ruleset>
	Where   string            // CEL condition on customer features
	Params  map[string]string // the KPI's own parameters (cycle_multiplier=...)

	// Compare, set by the engine's own analyses, asks for two periods in one
	// statement: the previous window (labelled by its start) and the window.
	Compare bool `json:"-"`
	// Scope restricts the customers counted to those whose customers
	// columns hold the listed values: the engine sets it from the request's
	// key, whatever the caller put here.
	Scope map[string][]string `json:"-"`
	// Fast allows the fast path where the version has a fast form (the
	// engine's requests); without it the plan is the version's macro, the
	// reference of the property test and the benchmark's "before".
	Fast bool `json:"-"`
}

// The paths a statement takes.
const (
	PathPlain = "plain"
	PathFast  = "fast"
)

// Result is a KPI answer: a table whose columns are period (with a grain),
// the dimensions, value and, for ratios, numerator and denominator.
type Result struct {
	KPI         string         `json:"kpi"`
	Version     int            `json:"version"`
	From        string         `json:"from"`
	To          string         `json:"to"`
	Grain       Grain          `json:"grain"`
	By          []string       `json:"by"`
	Params      map[string]any `json:"params,omitempty"`
	Fingerprint string         `json:"fingerprint"`
	Columns     []string       `json:"-"`
	Types       []string       `json:"-"` // DuckDB's type of each column
	Rows        [][]any        `json:"-"`
	Cached      bool           `json:"-"`
	Elapsed     time.Duration  `json:"-"`
	// Path is how the answer was computed: plain (the version's macro),
	// fast (a shared per-customer table) or cache.
	Path string `json:"-"`
	// Calendar: the fast path read the calendar rollups.
	Calendar bool `json:"-"`
}

// maxDimensions bounds by=: more groups than this is a table export, not a KPI.
const maxDimensions = 5

// Filter restricts the customers a KPI counts: a SQL fragment selecting
// customer ids, with its bound arguments. The engine makes it from a where=
// condition (through the rules package's translation, or a list of ids the
// Go evaluation matched); the planner only places it.
type Filter struct {
	SQL  string
	Args []any
	// Combinations, when not nil, selects the same customers as whole
	// combinations of fast_dim_combos (their keys): a key's scope by
	// the combinations' dimensions only. The sums per combination then
	// serve the filtered request.
	Combinations *Filter
}

// Statement is a planned query: the one SQL statement, its bound arguments,
// the cache key (which names the generations of the data read), and the
// answer's header, to be completed with the rows.
type Statement struct {
	Def    *queries.Definition
	SQL    string
	Args   []any
	Key    string
	Result *Result
	// Periods is how many periods the statement computes (both windows of
	// a comparison), and Groups the by= dimensions it groups them by: with
	// the distinct values of each, an upper bound of its rows, known
	// before it runs.
	Periods int
	Groups  []GroupRef
	// Path is PathFast when the statement reads the shared per-customer
	// tables, else PathPlain.
	Path string
	// Calendar: those tables are read from the calendar rollups
	// (fast_calendar), the periods being whole calendar periods.
	Calendar bool
}

// GroupRef is a by= dimension as the result's size sees it: where its
// values come from.
type GroupRef struct {
	Name string
	// Customer: a customers column or age_band, read from customer_dims().
	Customer bool
	// Evaluation: a tier dimension's evaluation (0 for others).
	Evaluation int64
	// Datasets: a KPI's own dimension (cac's acquisition_channel), a
	// column of these, named in each by the first of Columns it has.
	Datasets []string
	Columns  []string
}
