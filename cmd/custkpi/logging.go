package main

import (
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/spf13/cobra"
)

// choice is a flag taking one of a few words; a value outside them is
// refused when it is set, so the error names the flag, variable or key.
type choice struct {
	v       *string
	allowed []string
}

func newChoice(v *string, allowed ...string) *choice { return &choice{v: v, allowed: allowed} }

func (c *choice) String() string { return *c.v }
func (c *choice) Type() string   { return "string" }
func (c *choice) Set(s string) error {
	s = strings.ToLower(strings.TrimSpace(s))
	if !slices.Contains(c.allowed, s) {
		return fmt.Errorf("%q is not one of %s", s, strings.Join(c.allowed, ", "))
	}
	*c.v = s
	return nil
}

// newLogger is the logger of a command, on its stderr, in the format and
// from the level of --log-format and --log-level (or their settings).
func newLogger(cmd *cobra.Command) *slog.Logger {
	format, _ := cmd.Flags().GetString("log-format")
	level, _ := cmd.Flags().GetString("log-level")
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		lv = slog.LevelInfo // the flag admits only names slog reads
	}
	opts := &slog.HandlerOptions{Level: lv}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(cmd.ErrOrStderr(), opts))
	}
	return slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), opts))
}
