package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"
	"strings"

	"holmes/render"
)

// ExtInfoOptions are holmes ext info's arguments and flags.
type ExtInfoOptions struct {
	extSource
	JSON bool
}

// NewCmdExtInfo builds holmes ext info; runF replaces the run (tests).
func NewCmdExtInfo(f *Factory, runF func(*ExtInfoOptions) error) *cobra.Command {
	opts := &ExtInfoOptions{extSource: extSource{Factory: f}}
	cmd := &cobra.Command{
		Use:   "info DEV",
		Short: "superblock, which copy is used and why, features, problems",
		Long: `info reads the ext2/3/4 superblock on DEV and says which copy it used and
why: the primary, or a backup when the primary is damaged (--superblock
chooses one, as e2fsck -b does). It prints the filesystem's identity, sizes,
features and times, the checksums' state, the problems found, and the
candidate superblocks when they disagree.`,
		Example: `  holmes ext info disk.img:p2`,
		Args:    exactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			opts.Device = args[0]
			if runF != nil {
				return runF(opts)
			}
			return extInfoRun(opts)
		},
	}
	opts.addFlags(cmd)
	addJSONFlag(cmd, &opts.JSON)
	return cmd
}

func extInfoRun(opts *ExtInfoOptions) error {
	dev, fs, err := opts.open()
	if err != nil {
		return err
	}
	defer dev.Close()
	v := fs.Info(dev.Name())
	return emit(opts.Out, opts.JSON, v, func(w io.Writer) error {
		check := "not present"
		if v.SuperChecksumOK != nil {
			check = checkText(*v.SuperChecksumOK)
		}
		pairs := [][2]string{
			{"Device", v.Device},
			{"Superblock used", fmt.Sprintf("byte %d (group %d)", v.SuperblockOffset, v.Group)},
			{"Why", v.Why},
			{"UUID", v.UUID},
			{"Volume name", v.Label},
			{"Last mounted on", v.LastMounted},
			{"Block size", fmt.Sprint(v.BlockSize)},
			{"Blocks", fmt.Sprintf("%d (%d free)", v.Blocks, v.FreeBlocks)},
			{"Inodes", fmt.Sprintf("%d (%d free), %d bytes each", v.Inodes, v.FreeInodes, v.InodeSize)},
			{"Groups", fmt.Sprintf("%d of %d blocks, %d inodes", v.Groups, v.BlocksPerGroup, v.InodesPerGroup)},
			{"Features", strings.Join(v.Features, " ")},
			{"Created", v.MkfsTime},
			{"Last write", v.WriteTime},
			{"Superblock checksum", check},
			{"Group checksum errors", fmt.Sprint(v.GroupChecksumBad)},
		}
		if err := render.KeyValues(w, pairs); err != nil {
			return err
		}
		for _, p := range v.Problems {
			fmt.Fprintln(w, "problem:", p)
		}
		if len(v.Candidates) == 0 {
			return nil
		}
		fmt.Fprintln(w, "\nSuperblock candidates (they disagree):")
		rows := [][]string{}
		for _, c := range v.Candidates {
			used := ""
			if c.Offset == v.SuperblockOffset {
				used = "*"
			}
			rows = append(rows, []string{used, fmt.Sprint(c.Offset), fmt.Sprint(c.Group), c.UUID, fmt.Sprint(c.BlockSize),
				c.MkfsTime, checkText(c.GroupsOK), checkText(c.RootInodeOK), checkText(c.RootDirOK), fmt.Sprint(c.Copies), c.Problem})
		}
		return render.Table(w, []string{"", "offset", "group", "uuid", "block", "created", "groups", "root inode", "root dir", "copies", "problem"}, rows)
	})
}
