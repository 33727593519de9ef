package main

import (
	"fmt"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"holmes/blockdev"
	"holmes/ext"
)

func newCmdExt(f *Factory) *cobra.Command {
	g := newGroup("ext", "ext2/3/4: read damaged filesystems without writing",
		NewCmdExtInfo(f, nil), NewCmdExtLs(f, nil), NewCmdExtStat(f, nil), NewCmdExtCat(f, nil),
		NewCmdExtFind(f, nil), NewCmdExtExtract(f, nil), NewCmdExtOrphans(f, nil), NewCmdExtReplay(f, nil))
	// Declared on the group too, so that "holmes ext --no-journal cat ..."
	// parses; each verb's own flag of the same name is the one set.
	addExtFlags(g.PersistentFlags(), &extFlags{})
	g.PersistentFlags().VisitAll(func(fl *pflag.Flag) { fl.Hidden = true })
	return g
}

// extFlags say how every ext command reads the filesystem.
type extFlags struct {
	Superblock    string
	NoJournal     bool
	JournalDevice string
}

func addExtFlags(fs *pflag.FlagSet, v *extFlags) {
	fs.StringVar(&v.Superblock, "superblock", "auto", "which superblock: auto, primary, or a backup's `BLOCK` number (as e2fsck -b)")
	fs.BoolVar(&v.NoJournal, "no-journal", false, "read the on-disk state: do not replay (in memory) a journal that needs recovery")
	fs.StringVar(&v.JournalDevice, "journal-device", "", "the external journal `DEV` of a filesystem whose journal lives elsewhere")
}

// extSource is the filesystem every ext command reads: a DEV and how to
// read it.
type extSource struct {
	*Factory
	Device string
	extFlags
}

func (s *extSource) addFlags(cmd *cobra.Command) { addExtFlags(cmd.Flags(), &s.extFlags) }

// open opens the DEV (and an external journal device) and the filesystem
// on it as the flags say; closing the device returned closes both.
func (s *extSource) open() (blockdev.Device, *ext.FS, error) {
	choice, err := ext.ParseSuperblockChoice(s.Superblock)
	if err != nil {
		return nil, nil, usageError{err}
	}
	dev, err := s.OpenDevice(s.Device)
	if err != nil {
		return nil, nil, err
	}
	opts := ext.Options{Superblock: choice, NoJournal: s.NoJournal}
	var journal blockdev.Device
	if s.JournalDevice != "" {
		if journal, err = s.OpenDevice(s.JournalDevice); err != nil {
			dev.Close()
			return nil, nil, err
		}
		opts.JournalDevice, opts.JournalDeviceSize = journal, journal.Size()
	}
	both := blockdev.Stack(dev, journal)
	fs, err := ext.Open(dev, dev.Size(), opts)
	if err != nil {
		both.Close()
		return nil, nil, fmt.Errorf("%s: %w", dev.Name(), err)
	}
	return both, fs, nil
}

// lookup opens the filesystem, finds the inode path names and hands both
// to use; the device is closed when use returns.
func (s *extSource) lookup(path string, use func(fs *ext.FS, in *ext.Inode) error) error {
	dev, fs, err := s.open()
	if err != nil {
		return err
	}
	defer dev.Close()
	in, err := fs.Lookup(path)
	if err != nil {
		return err
	}
	return use(fs, in)
}
