package queries

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The catalog table of docs/kpis.md is generated from the KPI files, so the
// documentation cannot drift from the definitions the engine runs.
const (
	kpisDoc      = "../docs/kpis.md"
	catalogStart = "<!-- catalog:start (generated from queries/*/*.sql by TestKPIDocCatalog; CUSTKPI_UPDATE_DOCS=1 go test ./queries rewrites it) -->"
	catalogEnd   = "<!-- catalog:end -->"
	updateEnv    = "CUSTKPI_UPDATE_DOCS"
)

// TestKPIDocCatalog fails when docs/kpis.md's catalog table is not the one
// the KPI files give; with CUSTKPI_UPDATE_DOCS=1 it rewrites the table.
func TestKPIDocCatalog(t *testing.T) {
	defs, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	want := catalogMarkdown(defs)
	b, err := os.ReadFile(kpisDoc)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	i, j := strings.Index(doc, catalogStart), strings.Index(doc, catalogEnd)
	if i < 0 || j < i {
		t.Fatalf("%s has no %q ... %q markers", kpisDoc, catalogStart, catalogEnd)
	}
	got := doc[i+len(catalogStart) : j]
	if got == want {
		return
	}
	if os.Getenv(updateEnv) != "" {
		doc = doc[:i+len(catalogStart)] + want + doc[j:]
		if err := os.WriteFile(filepath.Clean(kpisDoc), []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("rewrote the catalog of %s", kpisDoc)
		return
	}
	t.Errorf("the catalog table of %s is not the one the KPI files give: run %s=1 go test ./queries -run TestKPIDocCatalog and commit docs/kpis.md", kpisDoc, updateEnv)
}

// Every KPI file must be in the table, the one thing a generator bug could
// silently drop.
func TestCatalogMarkdownNamesEveryVersion(t *testing.T) {
	defs, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	md := catalogMarkdown(defs)
	for _, d := range defs {
		if !strings.Contains(md, fmt.Sprintf("| `%s` | %d", d.Name, d.Version)) {
			t.Errorf("%s v%d is not in the table", d.Name, d.Version)
		}
	}
}

// catalogMarkdown renders the catalog: one row per KPI version, in the
// order of the categories, then by name and version.
func catalogMarkdown(defs []*Definition) string {
	var b strings.Builder
	for _, cat := range categories(defs) {
		fmt.Fprintf(&b, "\n### %s\n\n", cat)
		b.WriteString("| KPI | version | unit | kind | definition | reads | parameters | grains | `by=` | better |\n")
		b.WriteString("|---|---|---|---|---|---|---|---|---|---|\n")
		for _, d := range defs {
			if d.Category != cat {
				continue
			}
			fmt.Fprintf(&b, "| `%s` | %d%s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
				d.Name, d.Version, defaultMark(d), d.Unit, kindText(d), cell(d.Description), codeList(d.Requires),
				paramText(d.Params), grainText(d), byText(d), strings.TrimSuffix(d.Direction, "_is_better"))
		}
	}
	b.WriteString("\n")
	return b.String()
}

// categories in the order the catalog presents them; any other after.
func categories(defs []*Definition) []string {
	order := []string{"sales", "acquisition", "loyalty", "satisfaction", "engagement", "matrices", "models"}
	seen := map[string]bool{}
	for _, c := range order {
		seen[c] = false
	}
	for _, d := range defs {
		if _, known := seen[d.Category]; !known {
			order = append(order, d.Category)
		}
		seen[d.Category] = true
	}
	var out []string
	for _, c := range order {
		if seen[c] {
			out = append(out, c)
		}
	}
	return out
}

func defaultMark(d *Definition) string {
	if d.Default {
		return " (default)"
	}
	return ""
}

func kindText(d *Definition) string {
	if d.Kind == Ratio && d.Scale != 0 && d.Scale != 1 {
		return fmt.Sprintf("ratio × %g", d.Scale)
	}
	return string(d.Kind)
}

func cell(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "|", `\|`), "\n", " ")
}

func codeList(items []string) string {
	if len(items) == 0 {
		return ""
	}
	return "`" + strings.Join(items, "`, `") + "`"
}

func paramText(ps []Param) string {
	var out []string
	for _, p := range ps {
		out = append(out, fmt.Sprintf("`%s` (%s, default %s)", p.Name, p.Type, p.Default))
	}
	return strings.Join(out, "; ")
}

func grainText(d *Definition) string {
	if len(d.Group) > 0 {
		return "none; rows per " + codeList(d.Group)
	}
	return "any"
}

func byText(d *Definition) string {
	if d.Dimensions != nil {
		return codeList(d.Dimensions)
	}
	return "customer dimensions"
}
