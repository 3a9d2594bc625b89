package main

import (
	"encoding/csv"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/knadh/koanf/parsers/toml/v2"
	"github.com/knadh/koanf/parsers/yaml"
	"github.com/knadh/koanf/providers/file"
	"github.com/knadh/koanf/v2"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// Settings are the flags that say how custkpi runs (where the database is,
// how the server listens, limits, logging), as against what one command is
// asked (--from, --by, --param...). Each can also come from an environment
// variable (envName) or the --config file. Precedence: the command line,
// then the environment, then the file, then the flag's default.
var settings = []string{
	"db", "timeout", "job-timeout", "max-result-rows", "threads", "memory-limit", "min-date", "max-date",
	"addr", "allowed-host", "cors-origin", "import-dir", "insecure", "max-upload", "shutdown-grace", "metrics-auth",
	"webhook-allow-loopback", "public-url",
	"log-format", "log-level", "quiet", "server", "key",
}

// envPrefix is the prefix of every environment variable custkpi reads.
const envPrefix = "CUSTKPI_"

// configEnv names the config file when --config is not given.
const configEnv = envPrefix + "CONFIG"

// envName is a setting's environment variable: --max-result-rows is
// CUSTKPI_MAX_RESULT_ROWS.
func envName(flag string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

func isSetting(name string) bool { return slices.Contains(settings, name) }

// configFooter ends every command's --help.
const configFooter = `
Settings: a flag marked [$CUSTKPI_...] can also be set by that environment
variable or by a key of the --config file (YAML or TOML; $CUSTKPI_CONFIG names
it too). The key is the flag's name ("addr: 0.0.0.0:8080"), either at the top
level, for every command, or in a section named after the command ("serve:",
"keys.create:"), which wins. The command line wins over the environment, the
environment over the file, the file over the default. A repeatable flag takes
a list in the file and a comma-separated list in its variable.
`

// documentSettings appends its environment variable to the help of every
// setting, and the rule to every command's help.
func documentSettings(root *cobra.Command) {
	seen := map[*pflag.Flag]bool{}
	var walk func(*cobra.Command)
	walk = func(c *cobra.Command) {
		for _, fs := range []*pflag.FlagSet{c.LocalNonPersistentFlags(), c.PersistentFlags()} {
			fs.VisitAll(func(f *pflag.Flag) {
				if isSetting(f.Name) && !seen[f] {
					seen[f] = true
					f.Usage += " [$" + envName(f.Name) + "]"
				}
			})
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	root.SetUsageTemplate(root.UsageTemplate() + configFooter)
}

// applySettings gives every setting of cmd that the command line left
// unset its value from the environment, else from the config file. A
// value its flag refuses is an error naming the variable or the key.
func applySettings(cmd *cobra.Command, configPath string) error {
	var conf *koanf.Koanf
	if configPath == "" {
		configPath = os.Getenv(configEnv)
	}
	if configPath != "" {
		var err error
		if conf, err = loadConfig(cmd.Root(), configPath); err != nil {
			return err
		}
	}
	section := sectionOf(cmd)
	var errs []error
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if f.Changed || !isSetting(f.Name) {
			return
		}
		// An empty variable counts as unset, as a shell's VAR= usually means.
		if v := os.Getenv(envName(f.Name)); v != "" {
			if err := setFromEnv(f, v); err != nil {
				errs = append(errs, fmt.Errorf("environment variable %s=%q is not a valid --%s (%s): %w", envName(f.Name), v, f.Name, f.Value.Type(), err))
			}
			return
		}
		if conf == nil {
			return
		}
		for _, key := range []string{section + "." + f.Name, f.Name} {
			if v, ok := lookup(conf, key); ok {
				if err := setFromFile(f, v); err != nil {
					errs = append(errs, fmt.Errorf("config file %s: key %q: %v is not a valid --%s (%s): %w", configPath, key, v, f.Name, f.Value.Type(), err))
				}
				return
			}
		}
	})
	return errors.Join(errs...)
}

// sectionOf is the config-file section of a command: its path below the
// root, dotted ("serve", "keys.create").
func sectionOf(cmd *cobra.Command) string {
	path := strings.Fields(cmd.CommandPath())
	return strings.Join(path[1:], ".")
}

// loadConfig reads a YAML or TOML file (by its extension) and refuses a key
// that is no setting of any command, so a typo is not silently ignored.
func loadConfig(root *cobra.Command, path string) (*koanf.Koanf, error) {
	var parser koanf.Parser
	switch strings.ToLower(filepath.Ext(path)) {
	case ".yaml", ".yml":
		parser = yaml.Parser()
	case ".toml":
		parser = toml.Parser()
	default:
		return nil, fmt.Errorf("config file %s: unknown format: name it .yaml, .yml or .toml", path)
	}
	raw := koanf.New(".")
	if err := raw.Load(file.Provider(path), parser); err != nil {
		return nil, fmt.Errorf("config file %s: %w", path, err)
	}
	// Keys may be written with underscores (max_result_rows) as TOML users
	// tend to; they are the flag names with dashes.
	conf := koanf.New(".")
	for _, key := range raw.Keys() {
		norm := strings.ReplaceAll(key, "_", "-")
		if err := checkKey(root, norm); err != nil {
			return nil, fmt.Errorf("config file %s: key %q: %w", path, key, err)
		}
		conf.Set(norm, raw.Get(key))
	}
	return conf, nil
}

// checkKey accepts a setting's name, alone or under the section of a
// command that has that setting.
func checkKey(root *cobra.Command, key string) error {
	parts := strings.Split(key, ".")
	name := parts[len(parts)-1]
	if !isSetting(name) {
		return fmt.Errorf("%q is not a setting; the settings are %s", name, strings.Join(settings, ", "))
	}
	if len(parts) == 1 {
		return nil
	}
	cmd, rest, err := root.Find(parts[:len(parts)-1])
	if err != nil || len(rest) > 0 || cmd == root {
		return fmt.Errorf("no command %q for the section %q", strings.Join(parts[:len(parts)-1], " "), strings.Join(parts[:len(parts)-1], "."))
	}
	if cmd.Flags().Lookup(name) == nil && cmd.InheritedFlags().Lookup(name) == nil {
		return fmt.Errorf("custkpi %s has no --%s", cmd.Name(), name)
	}
	return nil
}

func lookup(conf *koanf.Koanf, key string) (any, bool) {
	if !conf.Exists(key) {
		return nil, false
	}
	return conf.Get(key), true
}

// setFromEnv sets a flag from its variable: a repeatable flag takes a
// comma-separated list (CSV quoting for an item holding a comma).
func setFromEnv(f *pflag.Flag, v string) error {
	if sv, ok := f.Value.(pflag.SliceValue); ok {
		items, err := csv.NewReader(strings.NewReader(v)).Read()
		if err != nil {
			return fmt.Errorf("not a comma-separated list: %w", err)
		}
		for i := range items {
			items[i] = strings.TrimSpace(items[i])
		}
		return sv.Replace(items)
	}
	return f.Value.Set(v)
}

// setFromFile sets a flag from a parsed value: a list for a repeatable
// flag, a scalar otherwise.
func setFromFile(f *pflag.Flag, v any) error {
	if sv, ok := f.Value.(pflag.SliceValue); ok {
		var items []string
		switch v := v.(type) {
		case []any:
			for _, item := range v {
				s, err := scalar(item)
				if err != nil {
					return err
				}
				items = append(items, s)
			}
		default:
			s, err := scalar(v)
			if err != nil {
				return err
			}
			items = []string{s}
		}
		return sv.Replace(items)
	}
	s, err := scalar(v)
	if err != nil {
		return err
	}
	return f.Value.Set(s)
}

// scalar writes a parsed value as the flag would be given it: 4.0 as 4, so
// an integer setting written as a float in TOML still reads.
func scalar(v any) (string, error) {
	switch v := v.(type) {
	case string:
		return v, nil
	case bool:
		return strconv.FormatBool(v), nil
	case int:
		return strconv.Itoa(v), nil
	case int64:
		return strconv.FormatInt(v, 10), nil
	case uint64:
		return strconv.FormatUint(v, 10), nil
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64), nil
	case []any, map[string]any:
		return "", fmt.Errorf("want a single value, not %T", v)
	}
	return fmt.Sprint(v), nil
}
