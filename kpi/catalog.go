package kpi

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"custkpi/fault"
	"custkpi/queries"
)

// KPI is one KPI of the catalog with all its versions.
type KPI struct {
	Name     string
	Versions []*queries.Definition // ascending
	Default  *queries.Definition   // served when no version is asked for
}

// Latest is the highest version.
func (k *KPI) Latest() *queries.Definition { return k.Versions[len(k.Versions)-1] }

// Version returns version v, or the default when v is 0.
func (k *KPI) Version(v int) (*queries.Definition, error) {
	if v == 0 {
		return k.Default, nil
	}
	for _, d := range k.Versions {
		if d.Version == v {
			return d, nil
		}
	}
	return nil, &fault.Error{
		Code:    fault.CodeUnknownVersion,
		Message: fmt.Sprintf("KPI %q has no version %d (versions: %s)", k.Name, v, JoinInts(k.VersionNumbers())),
		Details: map[string]any{"parameter": "version", "kpi": k.Name, "versions": k.VersionNumbers()},
	}
}

// VersionNumbers lists the versions.
func (k *KPI) VersionNumbers() []int {
	out := make([]int, len(k.Versions))
	for i, d := range k.Versions {
		out[i] = d.Version
	}
	return out
}

// Catalog is every KPI, by name.
type Catalog struct {
	kpis  map[string]*KPI
	names []string
}

func NewCatalog(defs []*queries.Definition) (*Catalog, error) {
	c := &Catalog{kpis: map[string]*KPI{}}
	for _, d := range defs {
		if err := checkFastForms(d); err != nil {
			return nil, err
		}
		k := c.kpis[d.Name]
		if k == nil {
			k = &KPI{Name: d.Name}
			c.kpis[d.Name] = k
			c.names = append(c.names, d.Name)
		}
		k.Versions = append(k.Versions, d)
		if d.Default {
			k.Default = d
		}
	}
	sort.Strings(c.names)
	return c, nil
}

// List returns the KPIs sorted by name.
func (c *Catalog) List() []*KPI {
	out := make([]*KPI, len(c.names))
	for i, n := range c.names {
		out[i] = c.kpis[n]
	}
	return out
}

// Lookup returns the KPI named name.
func (c *Catalog) Lookup(name string) (*KPI, error) {
	if k, ok := c.kpis[name]; ok {
		return k, nil
	}
	return nil, &fault.Error{
		Code:    fault.CodeUnknownKPI,
		Message: fmt.Sprintf("unknown KPI %q; the catalog lists the KPIs", name),
		Details: map[string]any{"kpi": name},
	}
}

// MacroSQL is the statement that creates a version's table macro. The
// window parameters come first; KPI parameters are named with defaults so a
// caller passes only what it changes.
func MacroSQL(d *queries.Definition) string {
	params := []string{"win_start", "win_end", "prev_start"}
	for _, p := range d.Params {
		params = append(params, fmt.Sprintf("%s := %s", p.Name, paramLiteral(p, p.Default)))
	}
	return fmt.Sprintf("CREATE OR REPLACE MACRO %s(%s) AS TABLE\n%s",
		d.MacroName(), strings.Join(params, ", "), d.Body)
}

// paramLiteral renders a parameter default from the (trusted) KPI file.
func paramLiteral(p queries.Param, v string) string {
	if p.Type == "double" {
		return v + "::DOUBLE"
	}
	return QuoteString(v)
}

// parseParam checks a caller's value for a KPI parameter and returns the
// value to bind. A number must be finite: NaN and the infinities (which
// strconv reads from "NaN", "Inf", "infinity", "1e400") would reach the
// macro and turn its comparisons and sums into NaN.
func parseParam(p queries.Param, raw string) (any, error) {
	if p.Type == "double" {
		f, err := strconv.ParseFloat(strings.TrimSpace(raw), 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, fault.InvalidParam(p.Name, "%q is not a finite number", raw)
		}
		return f, nil
	}
	if !utf8.ValidString(raw) {
		// DuckDB refuses a bound VARCHAR that is not UTF-8 when it runs.
		return nil, fault.InvalidParam(p.Name, "%q is not valid UTF-8 text", raw)
	}
	return raw, nil
}

func JoinInts(v []int) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, ", ")
}
