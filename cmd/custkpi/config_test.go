package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A KPI by month and region over a quarter could have 3 × 3 rows: a
// --max-result-rows of 1 refuses it before it runs, 0 (no cap) answers it.
// Which value the command ran with shows where it came from.
var capped = []string{"kpi", "revenue", "--from", "2024-01-01", "--to", "2024-04-01", "--grain", "month", "--by", "region"}

func refusedAsTooLarge(err error) bool {
	return err != nil && strings.Contains(err.Error(), "result_too_large")
}

func TestSettingsPrecedence(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "shop.duckdb")
	importFixture(t, db, "customers", "orders")
	yamlConf := filepath.Join(dir, "custkpi.yaml")
	writeFile(t, yamlConf, "db: "+db+"\nmax-result-rows: 1\n")
	tomlConf := filepath.Join(dir, "custkpi.toml")
	writeFile(t, tomlConf, "db = '"+db+"'\n[kpi]\nmax_result_rows = 1\n[scorecard]\nmax_result_rows = 0\n")

	// The default cap answers.
	if _, err := runCLI(append(capped, "--db", db)...); err != nil {
		t.Fatalf("default: %v", err)
	}
	// The environment: CUSTKPI_DB stands for --db, CUSTKPI_MAX_RESULT_ROWS
	// for the cap.
	t.Setenv("CUSTKPI_DB", db)
	t.Setenv("CUSTKPI_MAX_RESULT_ROWS", "1")
	if _, err := runCLI(capped...); !refusedAsTooLarge(err) {
		t.Errorf("env cap 1: %v, want result_too_large", err)
	}
	// The command line wins over the environment.
	if _, err := runCLI(append(capped, "--max-result-rows", "0")...); err != nil {
		t.Errorf("flag 0 over env 1: %v", err)
	}
	// The environment wins over the file.
	t.Setenv("CUSTKPI_MAX_RESULT_ROWS", "0")
	if _, err := runCLI(append(capped, "--config", yamlConf)...); err != nil {
		t.Errorf("env 0 over file 1: %v", err)
	}
	os.Unsetenv("CUSTKPI_MAX_RESULT_ROWS")
	os.Unsetenv("CUSTKPI_DB")
	// The file alone: its db and its cap, given by --config or
	// CUSTKPI_CONFIG; in TOML a command's section applies to it only.
	if _, err := runCLI(append(capped, "--config", yamlConf)...); !refusedAsTooLarge(err) {
		t.Errorf("YAML file cap 1: %v, want result_too_large", err)
	}
	t.Setenv("CUSTKPI_CONFIG", tomlConf)
	if _, err := runCLI(capped...); !refusedAsTooLarge(err) {
		t.Errorf("TOML [kpi] cap 1: %v, want result_too_large", err)
	}
	if out, err := runCLI("scorecard", "--from", "2024-01-01", "--to", "2024-04-01"); err != nil || !strings.Contains(out, "revenue") {
		t.Errorf("TOML [scorecard] section, db from the top level: %v\n%s", err, out)
	}
}

// A value a setting cannot take is an error naming where it came from.
func TestSettingsErrorsNameTheSource(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "shop.duckdb")
	importFixture(t, db, "customers", "orders")
	t.Run("env", func(t *testing.T) {
		t.Setenv("CUSTKPI_TIMEOUT", "soon")
		_, err := runCLI("kpi", "revenue", "--db", db)
		if err == nil || !strings.Contains(err.Error(), `CUSTKPI_TIMEOUT="soon"`) || !strings.Contains(err.Error(), "--timeout") {
			t.Errorf("bad CUSTKPI_TIMEOUT: %v", err)
		}
	})
	t.Run("log level", func(t *testing.T) {
		t.Setenv("CUSTKPI_LOG_LEVEL", "chatty")
		_, err := runCLI("kpi", "revenue", "--db", db)
		if err == nil || !strings.Contains(err.Error(), "CUSTKPI_LOG_LEVEL") || !strings.Contains(err.Error(), "debug, info, warn, error") {
			t.Errorf("bad CUSTKPI_LOG_LEVEL: %v", err)
		}
		if _, err := runCLI("kpi", "revenue", "--db", db, "--log-level", "chatty"); err == nil || !strings.Contains(err.Error(), "--log-level") {
			t.Errorf("bad --log-level: %v", err)
		}
	})
	for _, c := range []struct{ name, text, want string }{
		{"bad.yaml", "threads: many\n", `key "threads"`},
		{"list.yaml", "timeout: [1s, 2s]\n", `key "timeout"`},
		{"typo.yaml", "max-results-rows: 5\n", `"max-results-rows" is not a setting`},
		{"notsetting.yaml", "grain: month\n", `"grain" is not a setting`},
		{"section.toml", "[serve]\nformat = 'csv'\n", `"format" is not a setting`},
		{"nocommand.yaml", "serv:\n  addr: 127.0.0.1:1\n", `no command "serv"`},
		{"broken.yaml", "db: [\n", "broken.yaml"},
		{"conf.ini", "db=x\n", "name it .yaml, .yml or .toml"},
	} {
		path := filepath.Join(dir, c.name)
		writeFile(t, path, c.text)
		_, err := runCLI("kpi", "revenue", "--db", db, "--config", path)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: %v, want an error naming the file and %s", c.name, err, c.want)
		}
	}
}

// Repeatable settings take a comma-separated list in their variable and a
// list in the file.
func TestRepeatableSettings(t *testing.T) {
	cmd := newRootCommand()
	serve, _, err := cmd.Find([]string{"serve"})
	if err != nil {
		t.Fatal(err)
	}
	if err := serve.ParseFlags(nil); err != nil {
		t.Fatal(err)
	}
	t.Setenv("CUSTKPI_ALLOWED_HOST", "kpi.example.com, bi.example.com:8443")
	conf := filepath.Join(t.TempDir(), "c.yaml")
	writeFile(t, conf, "serve:\n  import-dir: [/data/a, /data/b]\n  cors-origin: https://bi.example.com\n")
	if err := applySettings(serve, conf); err != nil {
		t.Fatal(err)
	}
	for flag, want := range map[string][]string{
		"allowed-host": {"kpi.example.com", "bi.example.com:8443"},
		"import-dir":   {"/data/a", "/data/b"},
		"cors-origin":  {"https://bi.example.com"},
	} {
		got, _ := serve.Flags().GetStringArray(flag)
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("--%s = %q, want %q", flag, got, want)
		}
	}
}

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}} {
		out, err := runCLI(args...)
		if err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		lines := strings.Split(out, "\n")
		if !strings.HasPrefix(lines[0], "custkpi ") || !strings.Contains(out, "  go:        go1.") ||
			!strings.Contains(out, "  duckdb:    v1.") || !strings.Contains(out, "  revision:  ") {
			t.Errorf("%v printed:\n%s", args, out)
		}
	}
}

// Every setting's help names its variable, and the help explains the rule.
func TestSettingsInHelp(t *testing.T) {
	out, err := runCLI("serve", "--help")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"[$CUSTKPI_DB]", "[$CUSTKPI_ADDR]", "[$CUSTKPI_TIMEOUT]", "[$CUSTKPI_SHUTDOWN_GRACE]",
		"[$CUSTKPI_LOG_FORMAT]", "[$CUSTKPI_SERVER]", "[$CUSTKPI_CONFIG]", "The command line wins over the environment"} {
		if !strings.Contains(out, want) {
			t.Errorf("serve --help lacks %q", want)
		}
	}
}
