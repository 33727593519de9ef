package main

import (
	"runtime/debug"

	"github.com/spf13/cobra"
)

// NewCmdRoot builds the whole command tree over f; run makes a new one for
// every command line, so no flag value survives from one run to the next.
func NewCmdRoot(f *Factory) *cobra.Command {
	root := &cobra.Command{
		Use:   "holmes",
		Short: "Read-only storage recovery and forensics: md RAID, LVM, ext2/3/4, SMART",
		Long: `holmes examines, assembles and reads md RAID arrays, LVM volume groups and
ext2/3/4 filesystems in user space, from disks, images, partitions or byte
ranges. It never writes to its inputs: every device is opened read-only.

A DEV is PATH, PATH:pN (partition N), PATH@START+LEN (a byte range, with
K/M/G/T or s suffixes), or with --case FILE a name the case file defines
(an array such as md1, a logical volume such as vg/lv, or vg/lv:p1).`,
		Example:       `  holmes scan disk0.img disk1.img`,
		Version:       version(),
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.SetOut(f.Out)
	root.SetErr(f.ErrOut)
	root.SetVersionTemplate("holmes {{.Version}}\n")
	root.PersistentFlags().StringVar(&f.CaseFile, "case", "", "case `FILE` defining arrays and volumes usable as DEV names")
	root.PersistentFlags().StringArrayVar(&f.Maps, "map", nil, "GNU ddrescue mapfile of an image, as `IMAGE=MAPFILE` (repeatable): bytes not finished read as errors")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	// Commands that print JSON have their own --json, which shadows this
	// hidden one; it exists so that "holmes --json ext info DEV" parses, and
	// so that a command that prints no JSON refuses it.
	var jsonElsewhere bool
	root.PersistentFlags().BoolVar(&jsonElsewhere, "json", false, "print one JSON document on stdout")
	root.PersistentFlags().MarkHidden("json")
	root.PersistentPreRunE = func(cmd *cobra.Command, _ []string) error {
		if jsonElsewhere {
			return usagef("--json does not apply: %s prints no JSON", cmd.CommandPath())
		}
		return nil
	}

	md := newGroup("md", "md RAID: superblocks, mirror pairs, virtual assembly, geometry solving",
		NewCmdMdExamine(f, nil), NewCmdMdPairs(f, nil), NewCmdMdAssemble(f, nil), NewCmdMdSolve(f, nil))
	lvm := newGroup("lvm", "LVM: labels, metadata history, carving, restore plans",
		NewCmdLVMScan(f, nil), NewCmdLVMShow(f, nil), NewCmdLVMCarve(f, nil), NewCmdLVMPlan(f, nil), NewCmdLVMThin(f, nil), NewCmdLVMCache(f, nil))
	ext := newCmdExt(f)
	smart := newGroup("smart", "SMART: score smartctl reports and pick the sound half of each mirror",
		NewCmdSmartScore(f, nil))
	root.AddCommand(md, lvm, ext, smart,
		NewCmdTriage(f, nil), NewCmdTrace(f, nil), NewCmdPlan(f, nil), NewCmdScan(f, nil), NewCmdCompare(f, nil), NewCmdHash(f, nil), NewCmdDump(f, nil), NewCmdServe(f, nil), NewCmdCollect(f, nil))
	return root
}

// newGroup is a command that only holds subcommands; alone it prints help.
func newGroup(name, short string, subs ...*cobra.Command) *cobra.Command {
	g := &cobra.Command{
		Use:   name + " COMMAND",
		Short: short,
		Args:  cobra.NoArgs,
		RunE:  func(c *cobra.Command, _ []string) error { return c.Help() },
	}
	g.AddCommand(subs...)
	return g
}

// addJSONFlag offers --json on a command that can print one JSON document.
func addJSONFlag(cmd *cobra.Command, v *bool) {
	cmd.Flags().BoolVar(v, "json", false, "print one JSON document on stdout")
}

// version is the module version and VCS commit the binary was built from.
func version() string {
	v, commit, dirty := "(devel)", "unknown", ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Version != "" {
			v = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				commit = s.Value
			case "vcs.modified":
				if s.Value == "true" {
					dirty = " (modified)"
				}
			}
		}
	}
	return v + " commit " + commit + dirty
}
