// Package queries holds the KPI definitions: one SQL file per KPI version,
// embedded in the binary, each with a header of `-- key: value` lines.
//
// A file `queries/<category>/<name>.v<N>.sql` is the body of a DuckDB table
// macro the engine registers as kpi_<name>_v<N>(win_start, win_end,
// prev_start, <params>). The body returns entity rows (one per order,
// customer, response, ...) for one window, each with a customer_id and the
// measure columns that the header's aggregate expressions read. Keeping the
// aggregation in the header, not the body, is what lets the engine recompute a
// ratio for any group and period in one statement: it groups the entity rows
// and evaluates numerator and denominator per group.
//
// Header keys:
//
//	name, version, title, category, unit, description  what the catalog shows
//	requires     datasets (and dataset.column for optional columns) it reads
//	kind         additive (sums over groups), ratio (numerator/denominator) or
//	             statistic (mean, quantile: neither sums nor splits)
//	value        aggregate expression over the entity rows (additive, statistic)
//	numerator    aggregate expression (ratio)
//	denominator  aggregate expression (ratio)
//	scale        factor applied to numerator/denominator (ratio; NPS uses 100)
//	direction    higher_is_better or lower_is_better (scorecard status)
//	param        `<name> <double|varchar|weights> <default>`, repeatable:
//	             macro parameters the API accepts as query parameters;
//	             weights is `column:weight,...` over the requires dataset's
//	             pattern columns (score_*), checked by the engine

// default      true on the version served when none is asked for
// dimensions   a list of the entity columns it can be grouped by (e.g.
//
//	acquisition_channel) instead of the customer dimensions (the default)
//
// alias        `<name>=<dimension>`, repeatable: another name by= accepts
//
//	for one of those dimensions (cac's channel, its name before the
//	column was called acquisition_channel as on customers)
//
// group        entity columns every answer is grouped by, first (a matrix:
//
//	cohort, month_offset); the KPI takes no grain
//
// column       `<name> <aggregate>`, repeatable: extra output columns
//
//	(the cohort matrix's customers)
package queries

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

//go:embed */*.sql
var files embed.FS

// Kind says how a KPI's value combines over groups.
type Kind string

const (
	Additive  Kind = "additive"
	Ratio     Kind = "ratio"
	Statistic Kind = "statistic"
)

// Param is a KPI-specific macro parameter (cycle_multiplier, inactive_days).
type Param struct {
	Name    string `json:"name"`
	Type    string `json:"type"` // double, varchar or weights
	Default string `json:"default"`
}

// Column is an extra aggregate output column of a KPI.
type Column struct {
	Name      string `json:"name"`
	Aggregate string `json:"aggregate"`
}

// Definition is one KPI version as its file declares it.
type Definition struct {
	Name        string
	Version     int
	Title       string
	Category    string
	Unit        string
	Description string
	Kind        Kind
	Requires    []string // datasets; "orders.cost" names an optional column
	Value       string
	Numerator   string
	Denominator string
	Scale       float64
	Direction   string
	Params      []Param
	Default     bool
	Dimensions  []string // nil: customer dimensions
	Group       []string // entity columns always grouped by (matrices)
	Extra       []Column // extra aggregate output columns
	File        string
	Body        string // the SQL after the header
	Source      string // the whole file, as shown in the catalog
	// Fast are the version's fast forms, in order of preference (none:
	// the plain path serves it).
	Fast []*Fast

	// Aliases are other names of Dimensions: alias → dimension. A result
	// grouped by an alias names its column as asked.
	Aliases map[string]string
}

// Money tells a KPI whose value is an amount of money (unit currency:
// revenue, avg_order_value, cac, gross_profit, customer_profitability,
// historic_clv, predicted_clv): its answers are rounded to cents.
func (d *Definition) Money() bool { return d.Unit == "currency" }

// RoundMoney rounds a difference of two of the KPI's values to cents when
// they are money: both are already in cents, so this only removes the
// float noise of the subtraction (3723.41, not 3723.409999999996).
func (d *Definition) RoundMoney(f float64) float64 {
	if !d.Money() || math.IsNaN(f) || math.IsInf(f, 0) {
		return f
	}
	return math.Round(f*100) / 100
}

// MacroName is the DuckDB table macro this version is registered as.
func (d *Definition) MacroName() string {
	return fmt.Sprintf("kpi_%s_v%d", d.Name, d.Version)
}

// Datasets are the required dataset kinds, without column requirements.
func (d *Definition) Datasets() []string {
	var out []string
	for _, r := range d.Requires {
		kind, _, _ := strings.Cut(r, ".")
		if !contains(out, kind) {
			out = append(out, kind)
		}
	}
	return out
}

// Columns are the optional dataset columns required, as "kind.column".
func (d *Definition) Columns() []string {
	var out []string
	for _, r := range d.Requires {
		if strings.Contains(r, ".") {
			out = append(out, r)
		}
	}
	return out
}

var (
	fileName   = regexp.MustCompile(`^([a-z][a-z0-9_]*)\.v([0-9]+)\.sql$`)
	identifier = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
)

// Load parses every embedded KPI file.
func Load() ([]*Definition, error) { return LoadFS(files) }

// LoadFS parses every `<category>/<name>.v<N>.sql` in fsys and checks the
// catalog as a whole: unique name@version and exactly one default per name.
func LoadFS(fsys fs.FS) ([]*Definition, error) {
	var defs []*Definition
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".sql") || strings.HasSuffix(p, ".fast.sql") {
			return err
		}
		src, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		def, err := Parse(p, string(src))
		if err != nil {
			return err
		}
		defs = append(defs, def)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load queries: %w", err)
	}
	if err := attachFast(fsys, defs); err != nil {
		return nil, fmt.Errorf("load queries: %w", err)
	}
	seen := map[string]*Definition{}
	defaults := map[string]int{}
	versions := map[string]int{}
	for _, d := range defs {
		key := fmt.Sprintf("%s@%d", d.Name, d.Version)
		if prev, ok := seen[key]; ok {
			return nil, fmt.Errorf("load queries: %s defined twice (%s, %s)", key, prev.File, d.File)
		}
		seen[key] = d
		versions[d.Name]++
		if d.Default {
			defaults[d.Name]++
		}
	}
	for name, n := range versions {
		switch {
		case defaults[name] > 1:
			return nil, fmt.Errorf("load queries: %s has %d versions marked default", name, defaults[name])
		case defaults[name] == 0 && n > 1:
			return nil, fmt.Errorf("load queries: %s has %d versions and none marked default", name, n)
		}
	}
	// A KPI with a single version is its own default.
	for _, d := range defs {
		if versions[d.Name] == 1 {
			d.Default = true
		}
	}
	sort.Slice(defs, func(i, j int) bool {
		if defs[i].Name != defs[j].Name {
			return defs[i].Name < defs[j].Name
		}
		return defs[i].Version < defs[j].Version
	})
	return defs, nil
}

// Parse reads one KPI file. file is its path below the queries root.
func Parse(file, src string) (*Definition, error) {
	m := fileName.FindStringSubmatch(path.Base(file))
	if m == nil {
		return nil, fmt.Errorf("%s: file name must be <name>.v<N>.sql", file)
	}
	d := &Definition{File: file, Source: src, Scale: 1, Direction: "higher_is_better"}
	if err := d.readHeader(src); err != nil {
		return nil, fmt.Errorf("%s: %s", file, err)
	}
	if err := d.check(m[1], m[2]); err != nil {
		return nil, fmt.Errorf("%s: %s", file, err)
	}
	return d, nil
}

// readHeader reads the `-- key: value` lines that open src into d; the
// first line that is not a comment starts the body.
func (d *Definition) readHeader(src string) error {
	body, err := scanHeader(src, func(line int, key, value string) error {
		if err := d.setHeader(key, value); err != nil {
			return fmt.Errorf("line %d: %s", line, err)
		}
		return nil
	})
	d.Body = body
	return err
}

// scanHeader reads the "-- key: value" lines that open a SQL file, calling
// set with each one's line number (1-based), key and value trimmed;
// comment lines without a colon are skipped. The first line that is not a
// comment starts the body, which it returns trimmed.
func scanHeader(src string, set func(line int, key, value string) error) (string, error) {
	lines := strings.Split(src, "\n")
	body := len(lines)
	for i, line := range lines {
		text, ok := strings.CutPrefix(strings.TrimSpace(line), "--")
		if !ok {
			body = i
			break
		}
		key, value, ok := strings.Cut(strings.TrimSpace(text), ":")
		if !ok {
			continue // a plain comment in the header
		}
		if err := set(i+1, strings.TrimSpace(key), strings.TrimSpace(value)); err != nil {
			return "", err
		}
	}
	return strings.TrimSpace(strings.Join(lines[body:], "\n")), nil
}

// setHeader stores one header value in d.
func (d *Definition) setHeader(key, value string) error {
	var err error
	switch key {
	case "name":
		d.Name = value
	case "version":
		d.Version, err = strconv.Atoi(value)
	case "title":
		d.Title = value
	case "category":
		d.Category = value
	case "unit":
		d.Unit = value
	case "description":
		d.Description = strings.TrimSpace(d.Description + " " + value)
	case "kind":
		d.Kind = Kind(value)
	case "requires":
		d.Requires = splitList(value)
	case "value":
		d.Value = value
	case "numerator":
		d.Numerator = value
	case "denominator":
		d.Denominator = value
	case "scale":
		d.Scale, err = strconv.ParseFloat(value, 64)
	case "direction":
		d.Direction = value
	case "default":
		d.Default, err = strconv.ParseBool(value)
	case "dimensions":
		d.Dimensions = splitList(value)
	case "group":
		d.Group = splitList(value)
	case "alias":
		name, dim, ok := strings.Cut(value, "=")
		name, dim = strings.TrimSpace(name), strings.TrimSpace(dim)
		if !ok || !identifier.MatchString(name) || !identifier.MatchString(dim) {
			return errors.New("alias must be `<name>=<dimension>`")
		}
		if d.Aliases == nil {
			d.Aliases = map[string]string{}
		}
		d.Aliases[name] = dim
	case "column":
		name, agg, ok := strings.Cut(value, " ")
		if !ok || !identifier.MatchString(name) {
			return errors.New("column must be `<name> <aggregate>`")
		}
		d.Extra = append(d.Extra, Column{Name: name, Aggregate: strings.TrimSpace(agg)})
	case "param":
		f := strings.Fields(value)
		if len(f) != 3 || !identifier.MatchString(f[0]) || (f[1] != "double" && f[1] != "varchar" && f[1] != "weights") {
			return errors.New("param must be `<name> <double|varchar|weights> <default>`")
		}
		d.Params = append(d.Params, Param{Name: f[0], Type: f[1], Default: f[2]})
	default:
		return fmt.Errorf("unknown header key %q", key)
	}
	if err != nil {
		return fmt.Errorf("%s: %v", key, err)
	}
	return nil
}

// check checks a read definition against its file name (name and version)
// and for the keys its kind needs.
func (d *Definition) check(name, version string) error {
	switch {
	case d.Name != name:
		return fmt.Errorf("header name %q does not match the file name", d.Name)
	case strconv.Itoa(d.Version) != version:
		return fmt.Errorf("header version %d does not match the file name", d.Version)
	case d.Title == "" || d.Category == "" || d.Unit == "" || d.Description == "":
		return errors.New("title, category, unit and description are required")
	case path.Dir(d.File) != d.Category:
		return fmt.Errorf("category %q does not match the directory %q", d.Category, path.Dir(d.File))
	case len(d.Requires) == 0:
		return errors.New("requires is empty")
	case d.Direction != "higher_is_better" && d.Direction != "lower_is_better":
		return errors.New("direction must be higher_is_better or lower_is_better")
	case d.Body == "":
		return errors.New("no SQL body")
	}
	for name, dim := range d.Aliases {
		if !contains(d.Dimensions, dim) || contains(d.Dimensions, name) {
			return fmt.Errorf("alias %s=%s: an alias names one of the dimensions and is not one itself", name, dim)
		}
	}
	switch d.Kind {
	case Additive, Statistic:
		if d.Value == "" || d.Numerator != "" || d.Denominator != "" {
			return fmt.Errorf("kind %s needs value and no numerator/denominator", d.Kind)
		}
	case Ratio:
		if d.Value != "" || d.Numerator == "" || d.Denominator == "" {
			return errors.New("kind ratio needs numerator and denominator and no value")
		}
	default:
		return errors.New("kind must be additive, ratio or statistic")
	}
	return nil
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
