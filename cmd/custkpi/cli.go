package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"regexp"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"custkpi/engine"
)

// Exit codes of custkpi, as shells and scripts expect them.
const (
	exitOK          = 0
	exitFailure     = 1   // the command ran and failed
	exitUsage       = 2   // the command line is wrong: nothing ran
	exitInterrupted = 130 // stopped by SIGINT (128 + 2)
)

// usageError is a command line that cannot run as written: an unknown
// command or flag, a missing argument, a flag value that does not parse.
type usageError struct{ err error }

func (u usageError) Error() string { return u.err.Error() }
func (u usageError) Unwrap() error { return u.err }

// usage marks err (nil stays nil) as a usage error.
func usage(err error) error {
	if err == nil {
		return nil
	}
	return usageError{err}
}

// configureCLI makes every command of the tree report its usage errors as
// such (flag errors, wrong argument counts, unknown subcommands) and name
// its flags where the engine names its parameters. A group of commands
// (rules, keys, clv) prints its help when run alone.
func configureCLI(root *cobra.Command) {
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageError{fmt.Errorf("%w (see %s --help)", err, c.CommandPath())}
	})
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		switch {
		case c.HasSubCommands() && !c.Runnable():
			c.Args = unknownSubcommand
			c.RunE = func(cmd *cobra.Command, _ []string) error { return cmd.Help() }
		case c.Args != nil:
			check := c.Args
			c.Args = func(cmd *cobra.Command, args []string) error {
				if err := check(cmd, args); err != nil {
					return usageError{fmt.Errorf("%w; usage: %s (see %s --help)", err, cmd.UseLine(), cmd.CommandPath())}
				}
				return nil
			}
		}
		if run := c.RunE; run != nil {
			c.RunE = func(cmd *cobra.Command, args []string) error { return nameFlags(cmd, run(cmd, args)) }
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

// unknownSubcommand refuses arguments to a group of commands: they can
// only be one of its subcommands, which cobra would have found.
func unknownSubcommand(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	msg := fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
	if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
		msg += "; did you mean " + strings.Join(s, " or ") + "?"
	}
	return usageError{fmt.Errorf("%s (see %s --help)", msg, cmd.CommandPath())}
}

// runMain is custkpi: it runs the command line args and returns the exit code.
// SIGINT and SIGTERM cancel the command's context: the server drains, a
// job is cancelled, the database closes cleanly. A command that ends with
// an error after a signal exits 128 + the signal's number; one that
// finishes its work (a server that drained) exits 0.
func runMain(args []string, stdout, stderr io.Writer) int {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(signals)
	var got os.Signal
	caught := make(chan struct{})
	go func() {
		select {
		case got = <-signals:
			close(caught)
			cancel()
		case <-ctx.Done():
		}
	}()
	root := newRootCommand()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	select {
	case <-caught:
		fmt.Fprintf(stderr, "custkpi: interrupted (%v): %v\n", got, err)
		if got == syscall.SIGTERM {
			return 128 + int(syscall.SIGTERM)
		}
		return exitInterrupted
	default:
	}
	fmt.Fprintln(stderr, "custkpi:", err)
	return exitCode(err)
}

// exitCode classifies a command's error.
func exitCode(err error) int {
	var u usageError
	var ee *engine.Error
	switch {
	case errors.As(err, &u):
		return exitUsage
	case strings.HasPrefix(err.Error(), "required flag(s) "):
		// cobra's check of MarkFlagRequired has no error type of its own.
		return exitUsage
	case errors.As(err, &ee):
		switch ee.Code {
		case engine.CodeInvalidParameter, engine.CodeUnknownKPI, engine.CodeUnknownVersion,
			engine.CodeUnknownDimension, engine.CodeUnknownKind:
			// The engine (or the server) checked a flag value or an
			// argument and refused it before doing anything.
			return exitUsage
		}
	}
	return exitFailure
}

// cliError is the engine's caller-fault error as the CLI prints it: the
// message, the code and the machine details, as the API answers them.
type cliError struct{ e *engine.Error }

func (c cliError) Error() string {
	if len(c.e.Details) == 0 {
		return c.e.Message
	}
	// json.Marshal, HTML-escaped as the server's details arrive, so a
	// local error and the same error through --server print alike.
	d, _ := json.Marshal(c.e.Details)
	return fmt.Sprintf("%s [%s] %s", c.e.Message, c.e.Code, d)
}

func (c cliError) Unwrap() error { return c.e }

// describeError adds the machine details of a caller-fault error to its
// message, so the CLI shows the same information as the API.
func describeError(err error) error {
	var ee *engine.Error
	if errors.As(err, &ee) && len(ee.Details) > 0 {
		return cliError{ee}
	}
	return err
}

// nameFlags rewrites an engine error to name the command's flags where the
// engine (or the server) named its parameters: `invalid parameter "from"`
// becomes `invalid --from`, calibration_end --calibration-end, a KPI's own
// parameter `--param cycle_multiplier`.
func nameFlags(cmd *cobra.Command, err error) error {
	var ee *engine.Error
	if cmd == nil || !errors.As(err, &ee) {
		return err
	}
	out := *ee
	out.Message = rewriteParams(cmd, out.Message)
	if p, ok := detailText(out.Details["parameter"]); ok {
		if f := flagFor(cmd, p); f != "" {
			out.Details = cloneDetails(out.Details)
			out.Details["parameter"] = f
		}
	}
	if out.Code == engine.CodeUnknownKPI {
		out.Message = strings.Replace(out.Message, "the catalog lists the KPIs", "`custkpi kpis` lists them", 1)
	}
	return cliError{&out}
}

// paramRef finds the engine's ways of naming a parameter in a message.
var paramRef = regexp.MustCompile(`(invalid )?parameter "([a-z_]+)"|\b[a-z]+(?:_[a-z]+)+\b|\bfrom and to\b`)

func rewriteParams(cmd *cobra.Command, msg string) string {
	return paramRef.ReplaceAllStringFunc(msg, func(m string) string {
		sub := paramRef.FindStringSubmatch(m)
		switch {
		case sub[2] != "":
			if f := flagFor(cmd, sub[2]); f != "" {
				return sub[1] + f
			}
		case m == "from and to":
			if flagFor(cmd, "from") != "" {
				return "--from and --to"
			}
		default:
			// A snake_case word is an identifier: a parameter only when
			// the command has its flag (calibration_end), else a column
			// or KPI name, left alone.
			if f := cmd.Flags().Lookup(strings.ReplaceAll(m, "_", "-")); f != nil {
				return "--" + f.Name
			}
		}
		return m
	})
}

// flagFor is the flag of cmd standing for the API parameter p, or "".
// A command can name it in its annotations ("flag:format": "file-format"
// for import, whose --format is the output's).
func flagFor(cmd *cobra.Command, p string) string {
	name := strings.ReplaceAll(p, "_", "-")
	if a, ok := cmd.Annotations["flag:"+p]; ok {
		name = a
	}
	if cmd.Flags().Lookup(name) != nil {
		return "--" + name
	}
	if cmd.Flags().Lookup("param") != nil {
		return "--param " + p
	}
	return ""
}

// detailText reads a text detail, local (a string) or from the server (the
// raw JSON the client keeps).
func detailText(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case json.RawMessage:
		var s string
		return s, json.Unmarshal(x, &s) == nil
	}
	return "", false
}

func cloneDetails(d map[string]any) map[string]any {
	out := make(map[string]any, len(d))
	for k, v := range d {
		out[k] = v
	}
	return out
}
