package queries

import (
	"bytes"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

//go:embed packs/*.yaml
var packFiles embed.FS

// Pack is a named set of KPIs chosen for one business goal (growth,
// profit, retention, service) or customer type (B2B, e-commerce), each with
// the direction that counts as better for that goal.
type Pack struct {
	Name         string    `json:"name" yaml:"name" example:"retention"`
	Title        string    `json:"title" yaml:"title" example:"Retention"`
	Goal         string    `json:"goal" yaml:"goal" example:"Keep the customers you have - more of them buy again, fewer leave."`
	CustomerType string    `json:"customer_type,omitempty" yaml:"customer_type,omitempty" example:"b2b"`
	KPIs         []PackKPI `json:"kpis" yaml:"kpis"`
	// Builtin: defined in a file beside the KPIs (read-only); otherwise
	// added through the API and stored in the database.
	Builtin bool `json:"builtin" yaml:"-"`
}

// PackKPI is one KPI of a pack and its suggested direction.
type PackKPI struct {
	KPI       string `json:"kpi" yaml:"kpi" example:"churn_rate"`
	Direction string `json:"direction,omitempty" yaml:"direction,omitempty" enums:"higher_is_better,lower_is_better"`
}

// BuiltinPacks parses the pack files (packs/<name>.yaml), sorted by name.
func BuiltinPacks() ([]*Pack, error) {
	var out []*Pack
	err := fs.WalkDir(packFiles, "packs", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		doc, err := fs.ReadFile(packFiles, p)
		if err != nil {
			return err
		}
		pk, err := ParsePack(doc)
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		if want := strings.TrimSuffix(path.Base(p), ".yaml"); pk.Name != want {
			return fmt.Errorf("%s: names pack %q; the file must be named after its pack", p, pk.Name)
		}
		pk.Builtin = true
		out = append(out, pk)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load packs: %w", err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// ParsePack reads a pack document (YAML, or JSON, which is YAML), refusing
// unknown fields, and checks its shape: a name, a goal, at least one KPI,
// each named once with a known direction. Whether the KPIs exist is the
// catalog's to say.
func ParsePack(doc []byte) (*Pack, error) {
	var p Pack
	dec := yaml.NewDecoder(bytes.NewReader(doc))
	dec.KnownFields(true)
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("not a pack document (name, title, goal, customer_type, kpis: [{kpi, direction}]): %w", err)
	}
	return &p, p.Check()
}

// Check validates the pack's fields.
func (p *Pack) Check() error {
	switch {
	case !identifier.MatchString(p.Name):
		return fmt.Errorf("name %q must be lower-case letters, digits and _, starting with a letter", p.Name)
	case strings.TrimSpace(p.Goal) == "":
		return fmt.Errorf("pack %s has no goal: say in a sentence what the KPIs are chosen for", p.Name)
	case len(p.KPIs) == 0:
		return fmt.Errorf("pack %s lists no KPIs", p.Name)
	}
	seen := map[string]bool{}
	for i, k := range p.KPIs {
		if seen[k.KPI] {
			return fmt.Errorf("pack %s lists KPI %s twice", p.Name, k.KPI)
		}
		seen[k.KPI] = true
		if k.Direction != "" && k.Direction != "higher_is_better" && k.Direction != "lower_is_better" {
			return fmt.Errorf("pack %s, KPI %d (%s): direction %q is not higher_is_better or lower_is_better", p.Name, i+1, k.KPI, k.Direction)
		}
	}
	return nil
}
