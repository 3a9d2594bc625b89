package rules

import (
	"embed"
	"fmt"
	"slices"
)

//go:embed builtin/*.yaml
var builtinFS embed.FS

// builtinNames lists the shipped rule sets in the order RULES.md gives.
var builtinNames = []string{"rfm_segments", "abc", "lifecycle", "volume_loyalty", "value_tiers", "account_tiers"}

// BuiltinNames returns the names of the built-in rule sets.
func BuiltinNames() []string { return slices.Clone(builtinNames) }

// BuiltinDocument returns the YAML document of a built-in rule set, for
// analysts to copy and edit.
func BuiltinDocument(name string) ([]byte, bool) {
	if !slices.Contains(builtinNames, name) {
		return nil, false
	}
	b, err := builtinFS.ReadFile("builtin/" + name + ".yaml")
	if err != nil {
		return nil, false
	}
	return b, true
}

// Builtins parses every built-in rule set.
func Builtins() ([]*RuleSet, error) {
	out := make([]*RuleSet, 0, len(builtinNames))
	for _, name := range builtinNames {
		doc, ok := BuiltinDocument(name)
		if !ok {
			return nil, fmt.Errorf("rules: built-in %s is missing", name)
		}
		rs, err := Parse(doc)
		if err != nil {
			return nil, fmt.Errorf("rules: built-in %s: %w", name, err)
		}
		out = append(out, rs)
	}
	return out, nil
}
