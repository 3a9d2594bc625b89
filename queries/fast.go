package queries

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"strconv"
	"strings"
)

// Fast is a fast form of a KPI version, from the file
// `<category>/<name>.v<N>.fast.sql` beside its definition (which may hold
// several, each after a line "-- form": the first that applies serves). Its body returns
// the version's entity rows, or rows its own aggregates read, for every
// period of a request at once, from shared per-customer tables (the
// sources: fast_orders, fast_window, fast_history, built by the planner
// from the periods) instead of the raw datasets: one scan serves every
// KPI of a scorecard. The version's file stays the definition; a
// property test (engine/fast_test.go) compares both on random requests.
//
// Header keys:
//
//	source       the shared tables the body reads
//	value, numerator, denominator
//	             aggregates replacing the definition's, when the body's rows
//	             are per customer where the definition's are per order
//	max_periods  at most this many periods (a history source joins every
//	             order before the window's end to each period)
//	min_days     only when every period's window is at least this many
//	             days long, for a form whose fixed cost only long windows
//	             earn back
//	use          calendar: only where the calendar rollups serve the
//	             request (whole calendar periods), for a form that is quicker
//	             there than the next but slower elsewhere
//	params       default: only for the version's default parameters, for a
//	             form reading tables built with them
//	rows         days: the form's aggregates only add up its rows' columns,
//	             so a source may give it a row per customer and day rather
//	             than per customer (the sums are the same), sparing the
//	             grouping per customer; a form reading the events' or the
//	             surveys' days (fast_events, fast_surveys) must say so
//	counted      columns the planner groups the rows by, after the
//	             request's groups, before the aggregates, which read the
//	             group's row count as n
//	summed       columns summed in that grouping, under their own names
//	count        a column saying how many alike rows each row stands for
//	             (rows of counts): grouped, n is its sum and each summed
//	             column is summed times it
type Fast struct {
	Sources     []string
	Value       string
	Numerator   string
	Denominator string
	MaxPeriods  int
	// MinDays: the form serves only requests whose every window is at
	// least this many days long.
	MinDays int
	// CalendarOnly: the form serves only requests of whole calendar
	// periods that the calendar rollups serve.
	CalendarOnly bool
	// DefaultParams: the form serves only requests whose parameters
	// are the version's defaults.
	DefaultParams bool
	// DayRows: the form's aggregates add up its rows' columns alone, so
	// its rows may be a customer's days.
	DayRows bool
	// Counted: the planner groups the form's rows by the request's groups
	// and these columns before its aggregates, which read the rows'
	// count as the column n, and each Summed column as its sum: a GROUP
	// BY on plain columns, then plain aggregates, in place of aggregates
	// building lists per group (histogram, list_filter), which are
	// costly per row and per group.
	Counted []string
	Summed  []string
	// Count names a column of the rows saying how many alike rows each
	// stands for (rows that are counts already): grouped, n is its sum
	// and each Summed column is summed times it.
	Count string
	Body  string
	File  string
}

// FastSources are the shared tables a fast body may read.
var FastSources = []string{"fast_orders", "fast_window", "fast_history", "fast_activity", "fast_complainers", "fast_events", "fast_event_totals", "fast_surveys", "fast_scores", "fast_score_counts", "fast_window_totals", "fast_history_totals", "fast_activity_totals", "fast_survey_totals", "fast_top_totals", "fast_ticket_totals", "fast_response_hours", "fast_response_buckets", "fast_response_bucketed", "fast_response_quantiles", "fast_suspect_totals", "fast_history_ends", "fast_costed_totals", "fast_first_ends", "fast_signups", "fast_referrals", "fast_tickets", "fast_signup_channels", "fast_spend", "fast_contracts", "fast_first_orders", "fast_cohorts"}

var formSplit = regexp.MustCompile(`(?m)^-- form\s*$`)

var fastName = regexp.MustCompile(`^([a-z][a-z0-9_]*)\.v([0-9]+)\.fast\.sql$`)

// attachFast reads every fast file of fsys and attaches it to its
// definition; a fast file without a definition is an error.
func attachFast(fsys fs.FS, defs []*Definition) error {
	return fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".fast.sql") {
			return err
		}
		m := fastName.FindStringSubmatch(path.Base(p))
		if m == nil {
			return fmt.Errorf("%s: file name must be <name>.v<N>.fast.sql", p)
		}
		src, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		var def *Definition
		for _, d := range defs {
			if d.Name == m[1] && strconv.Itoa(d.Version) == m[2] {
				def = d
			}
		}
		if def == nil {
			return fmt.Errorf("%s: no KPI %s v%s to be the fast form of", p, m[1], m[2])
		}
		// Several forms are separated by a line "-- form"; the planner
		// takes the first that applies to a request.
		for _, part := range formSplit.Split(string(src), -1) {
			f, err := parseFast(p, part)
			if err != nil {
				return err
			}
			def.Fast = append(def.Fast, f)
		}
		return nil
	})
}

func parseFast(file, src string) (*Fast, error) {
	f := &Fast{File: file}
	body, err := scanHeader(strings.TrimSpace(src), func(line int, key, value string) error {
		if !identifier.MatchString(key) {
			return nil // a plain comment
		}
		if err := f.set(key, value); err != nil {
			return fmt.Errorf("%s: line %d: %w", file, line, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	f.Body = body
	if f.Body == "" || len(f.Sources) == 0 {
		return nil, fmt.Errorf("%s: a fast form needs a source and a body", file)
	}
	if (len(f.Summed) > 0 || f.Count != "") && len(f.Counted) == 0 {
		return nil, fmt.Errorf("%s: summed and count need counted (the columns the rows are grouped by)", file)
	}
	return f, nil
}

func (f *Fast) set(key, value string) error {
	var err error
	switch key {
	case "source":
		f.Sources = splitList(value)
		for _, s := range f.Sources {
			if !contains(FastSources, s) {
				return fmt.Errorf("unknown source %q; one of %s", s, strings.Join(FastSources, ", "))
			}
		}
	case "value":
		f.Value = value
	case "numerator":
		f.Numerator = value
	case "denominator":
		f.Denominator = value
	case "max_periods":
		f.MaxPeriods, err = strconv.Atoi(value)
	case "min_days":
		f.MinDays, err = strconv.Atoi(value)
	case "params":
		if value != "default" {
			return errors.New("params must be default")
		}
		f.DefaultParams = true
	case "rows":
		if value != "days" {
			return errors.New("rows must be days")
		}
		f.DayRows = true
	case "counted", "summed":
		cols := splitList(value)
		for _, c := range cols {
			if !identifier.MatchString(c) || c == "n" {
				return fmt.Errorf("%s: %q is not a column name (lower case, not n)", key, c)
			}
		}
		if key == "counted" {
			f.Counted = cols
		} else {
			f.Summed = cols
		}
	case "count":
		if !identifier.MatchString(value) {
			return fmt.Errorf("count: %q is not a column name (lower case)", value)
		}
		f.Count = value
	case "use":
		if value != "calendar" {
			return errors.New("use must be calendar")
		}
		f.CalendarOnly = true
	default:
		return errors.New("unknown header key " + strconv.Quote(key))
	}
	return err
}
