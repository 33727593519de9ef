package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"holmes/blockdev"
	"holmes/ext"
)

func newCmdExt(f *Factory) *cobra.Command {
	return newGroup("ext", "ext2/3/4: read damaged filesystems without writing",
		NewCmdExtInfo(f, nil), NewCmdExtLs(f, nil), NewCmdExtStat(f, nil), NewCmdExtCat(f, nil),
		NewCmdExtFind(f, nil), NewCmdExtExtract(f, nil), NewCmdExtOrphans(f, nil))
}

// extSource is the filesystem every ext command reads: a DEV and the
// --superblock choice.
type extSource struct {
	*Factory
	Device     string
	Superblock string
}

func (s *extSource) addFlags(cmd *cobra.Command) {
	cmd.Flags().StringVar(&s.Superblock, "superblock", "auto", "which superblock: auto, primary, or a backup's `BLOCK` number (as e2fsck -b)")
}

// open opens the DEV and the filesystem on it with the --superblock choice.
func (s *extSource) open() (blockdev.Device, *ext.FS, error) {
	choice, err := ext.ParseSuperblockChoice(s.Superblock)
	if err != nil {
		return nil, nil, usageError{err}
	}
	dev, err := s.OpenDevice(s.Device)
	if err != nil {
		return nil, nil, err
	}
	fs, err := ext.Open(dev, dev.Size(), ext.Options{Superblock: choice})
	if err != nil {
		dev.Close()
		return nil, nil, fmt.Errorf("%s: %w", dev.Name(), err)
	}
	return dev, fs, nil
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
