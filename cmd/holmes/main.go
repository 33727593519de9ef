// Command holmes is a read-only storage recovery and forensics workbench:
// md RAID, LVM and ext2/3/4 examined, assembled and read in user space,
// without ever writing to the evidence.
//
// Each verb is a constructor (NewCmdX) over an options struct and a library
// call; root.go builds the tree afresh for every run, so nothing is shared
// between runs (docs/cli.md is the contract).
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run executes the command line and returns the exit status: 0 success,
// 1 failure, 2 usage, or what an exitStatus says (md solve: 3, ambiguous).
// Errors are one line on stderr.
func run(args []string, stdout, stderr io.Writer) int {
	return runWith(newFactory(stdout, stderr), args)
}

// runWith runs the command line with the given dependencies (tests replace
// some, such as the smartctl program).
func runWith(f *Factory, args []string) int {
	root := NewCmdRoot(f)
	root.SetArgs(args)
	cmd, err := root.ExecuteC()
	if err == nil {
		f.warnUnreadMaps()
		return 0
	}
	var es exitStatus
	if errors.As(err, &es) {
		fmt.Fprintln(f.ErrOut, "holmes:", err)
		return es.code
	}
	var ue usageError
	if errors.As(err, &ue) || isCobraUsage(err) {
		// Name the command and show how it is called, on the one line.
		fmt.Fprintf(f.ErrOut, "%s: %v (usage: %s)\n", cmd.CommandPath(), err, usageLine(cmd))
		return 2
	}
	fmt.Fprintln(f.ErrOut, "holmes:", err)
	return 1
}

// usageLine is cmd's synopsis without cobra's trailing " [flags]" noise
// doubled for commands that have subcommands.
func usageLine(cmd *cobra.Command) string {
	if cmd.HasAvailableSubCommands() && !cmd.Runnable() {
		return cmd.CommandPath() + " COMMAND"
	}
	return cmd.UseLine()
}

// usageError marks a mistake in the command line (exit status 2).
type usageError struct{ error }

// exitStatus ends a command that printed its report with a status of its
// own (md solve: 3 when ambiguous, docs/cli.md); the message still goes to
// stderr.
type exitStatus struct {
	code int
	error
}

func usagef(format string, a ...any) error { return usageError{fmt.Errorf(format, a...)} }

// isCobraUsage recognises the errors cobra itself returns for a bad command
// line (unknown command or flag).
func isCobraUsage(err error) bool {
	msg := err.Error()
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand", "flag needs an argument", "invalid argument"} {
		if strings.Contains(msg, p) {
			return true
		}
	}
	return false
}

// argsBetween checks the number of arguments against min and max (max < 0:
// no limit) and says what is wanted in the words of the command's Use line:
// "needs at least 2 DEVs", "takes DEV SRC DESTDIR (got 1 argument)".
func argsBetween(min, max int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) >= min && (max < 0 || len(args) <= max) {
			return nil
		}
		want := strings.TrimSpace(strings.TrimPrefix(cmd.Use, cmd.Name()))
		if fields := strings.Fields(want); max < 0 && len(fields) > 0 && len(args) < min {
			word := strings.TrimSuffix(fields[len(fields)-1], "...")
			if min == 1 {
				return usagef("needs a %s", word)
			}
			return usagef("needs at least %d %ss", min, word)
		}
		plural := "s"
		if len(args) == 1 {
			plural = ""
		}
		return usagef("takes %s (got %d argument%s)", want, len(args), plural)
	}
}

func exactArgs(n int) cobra.PositionalArgs { return argsBetween(n, n) }
func minArgs(n int) cobra.PositionalArgs   { return argsBetween(n, -1) }
