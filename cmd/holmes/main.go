// Command holmes is a read-only storage recovery and forensics workbench:
// md RAID, LVM and ext2/3/4 examined, assembled and read in user space,
// without ever writing to the evidence.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"holmes/blockdev"
	"holmes/casefile"
	"holmes/render"
)

// usageError marks a mistake in the command line (exit status 2).
type usageError struct{ error }

// exitStatus ends a command that printed its report with a status of its
// own (md solve: 3 when ambiguous, docs/cli.md); the message still goes to
// stderr.
type exitStatus struct {
	code int
	error
}

// Global flags shared by every command.
var (
	jsonOutput bool
	caseFile   string
)

var rootCmd = &cobra.Command{
	Use:   "holmes",
	Short: "Read-only storage recovery and forensics: md RAID, LVM, ext2/3/4, SMART",
	Long: `holmes examines, assembles and reads md RAID arrays, LVM volume groups and
ext2/3/4 filesystems in user space, from disks, images, partitions or byte
ranges. It never writes to its inputs: every device is opened read-only.

A DEV is PATH, PATH:pN (partition N), PATH@START+LEN (a byte range, with
K/M/G/T or s suffixes), or with --case FILE a name the case file defines
(an array such as md1, a logical volume such as vg/lv, or vg/lv:p1).`,
	SilenceErrors: true,
	SilenceUsage:  true,
}

// Command groups; each analyzer adds its subcommands in its own file.
var (
	mdCmd    = &cobra.Command{Use: "md", Short: "md RAID: superblocks, mirror pairs, virtual assembly, geometry solving"}
	lvmCmd   = &cobra.Command{Use: "lvm", Short: "LVM: labels, metadata history, carving, restore plans"}
	extCmd   = &cobra.Command{Use: "ext", Short: "ext2/3/4: read damaged filesystems without writing"}
	smartCmd = &cobra.Command{Use: "smart", Short: "SMART: score smartctl reports and pick the sound half of each mirror"}
)

func init() {
	rootCmd.PersistentFlags().BoolVar(&jsonOutput, "json", false, "print one JSON document on stdout")
	rootCmd.PersistentFlags().StringVar(&caseFile, "case", "", "case `FILE` defining arrays and volumes usable as DEV names")
	rootCmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	for _, group := range []*cobra.Command{mdCmd, lvmCmd, extCmd, smartCmd} {
		group.Args = cobra.NoArgs
		group.RunE = func(c *cobra.Command, _ []string) error { return c.Help() }
		rootCmd.AddCommand(group)
	}
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run executes the command line and returns the exit status: 0 success,
// 1 failure, 2 usage, or what an exitStatus says. Errors are one line on
// stderr.
func run(args []string, stdout, stderr io.Writer) int {
	rootCmd.SetArgs(args)
	rootCmd.SetOut(stdout)
	rootCmd.SetErr(stderr)
	err := rootCmd.Execute()
	if err == nil {
		return 0
	}
	fmt.Fprintln(stderr, "holmes:", err)
	var es exitStatus
	if errors.As(err, &es) {
		return es.code
	}
	var ue usageError
	if errors.As(err, &ue) || isCobraUsage(err) {
		return 2
	}
	return 1
}

// isCobraUsage recognises the errors cobra itself returns for a bad command
// line (unknown command, wrong number of arguments).
func isCobraUsage(err error) bool {
	msg := err.Error()
	for _, p := range []string{"unknown command", "accepts ", "requires at least", "requires at most", "unknown flag", "unknown shorthand"} {
		if strings.Contains(msg, p) {
			return true
		}
	}
	return false
}

// openDevice opens a DEV argument read-only, resolving case-file names when
// --case was given.
func openDevice(spec string) (blockdev.Device, error) {
	var r blockdev.Resolver
	if caseFile != "" {
		c, err := casefile.Load(caseFile)
		if err != nil {
			return nil, err
		}
		r = c
	}
	return blockdev.Open(spec, r)
}

// openDevices opens every DEV argument; on error, those already opened are closed.
func openDevices(specs []string) ([]blockdev.Device, error) {
	devs := make([]blockdev.Device, 0, len(specs))
	for _, s := range specs {
		d, err := openDevice(s)
		if err != nil {
			closeAll(devs)
			return nil, err
		}
		devs = append(devs, d)
	}
	return devs, nil
}

func closeAll(devs []blockdev.Device) {
	for _, d := range devs {
		if d != nil {
			d.Close()
		}
	}
}

// emit prints v as JSON with --json, otherwise calls human to print for people.
func emit(cmd *cobra.Command, v any, human func(w io.Writer) error) error {
	if jsonOutput {
		return render.JSON(cmd.OutOrStdout(), v)
	}
	return human(cmd.OutOrStdout())
}
