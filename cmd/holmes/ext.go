package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"holmes/blockdev"
	"holmes/ext"
	"holmes/render"
)

var (
	extSuperblock    string
	extNoJournal     bool
	extJournalDevice string
)

func init() {
	extCmd.PersistentFlags().StringVar(&extSuperblock, "superblock", "auto", "which superblock: `auto`, primary, or a backup's block number (as e2fsck -b)")
	extCmd.PersistentFlags().BoolVar(&extNoJournal, "no-journal", false, "read the on-disk state: do not replay (in memory) a journal that needs recovery")
	extCmd.PersistentFlags().StringVar(&extJournalDevice, "journal-device", "", "the external journal `DEV` of a filesystem whose journal lives elsewhere")
	info := &cobra.Command{
		Use:   "info DEV",
		Short: "superblock, which copy is used and why, features, problems",
		Args:  cobra.ExactArgs(1),
		RunE:  runExtInfo,
	}
	ls := &cobra.Command{
		Use:   "ls DEV [PATH]",
		Short: "list a directory like debugfs ls -l (inode, mode, type, uid, gid, size, mtime, name)",
		Args:  cobra.RangeArgs(1, 2),
		RunE:  runExtLs,
	}
	ls.Flags().BoolP("deleted", "d", false, "also list removed entries still readable in the directory, as <INODE> (the inode they last named)")
	stat := &cobra.Command{
		Use:   "stat DEV PATH",
		Short: "an inode's fields, like debugfs stat",
		Args:  cobra.ExactArgs(2),
		RunE:  runExtStat,
	}
	cat := &cobra.Command{
		Use:   "cat DEV PATH",
		Short: "a file's bytes to stdout",
		Args:  cobra.ExactArgs(2),
		RunE:  runExtCat,
	}
	find := &cobra.Command{
		Use:   "find DEV [PATH]",
		Short: "paths whose name matches --name, including under directories whose own name is lost (#INODE)",
		Args:  cobra.RangeArgs(1, 2),
		RunE:  runExtFind,
	}
	find.Flags().String("name", "*", "shell `GLOB` the base name must match")
	find.Flags().Bool("lost", false, "always scan the inode table for directories whose name is lost (done anyway when a directory is damaged)")
	extract := &cobra.Command{
		Use:   "extract DEV SRC DESTDIR",
		Short: "copy a file or tree out, with modes and times, writing only under DESTDIR",
		Args:  cobra.ExactArgs(3),
		RunE:  runExtExtract,
	}
	orphans := &cobra.Command{
		Use:   "orphans DEV",
		Short: "directories whose name is lost, with rebuilt paths, and regular files no directory names",
		Args:  cobra.ExactArgs(1),
		RunE:  runExtOrphans,
	}
	replay := &cobra.Command{
		Use:   "replay DEV",
		Short: "what replaying the journal in memory changes: transactions, blocks, inodes and their paths",
		Args:  cobra.ExactArgs(1),
		RunE:  runExtReplay,
	}
	extCmd.AddCommand(info, ls, stat, cat, find, extract, orphans, replay)
}

// extDevice is DEV with the external journal device, closed together.
type extDevice struct {
	blockdev.Device
	journal blockdev.Device
}

func (d extDevice) Close() error {
	if d.journal != nil {
		d.journal.Close()
	}
	return d.Device.Close()
}

// openExt opens DEV and the filesystem on it with the --superblock choice.
func openExt(spec string) (blockdev.Device, *ext.FS, error) {
	choice, err := ext.ParseSuperblockChoice(extSuperblock)
	if err != nil {
		return nil, nil, usageError{err}
	}
	dev, err := openDevice(spec)
	if err != nil {
		return nil, nil, err
	}
	d := extDevice{Device: dev}
	opts := ext.Options{Superblock: choice, NoJournal: extNoJournal}
	if extJournalDevice != "" {
		if d.journal, err = openDevice(extJournalDevice); err != nil {
			dev.Close()
			return nil, nil, err
		}
		opts.JournalDevice, opts.JournalDeviceSize = d.journal, d.journal.Size()
	}
	fs, err := ext.Open(dev, dev.Size(), opts)
	if err != nil {
		d.Close()
		return nil, nil, fmt.Errorf("%s: %w", dev.Name(), err)
	}
	return d, fs, nil
}

func runExtReplay(cmd *cobra.Command, args []string) error {
	dev, fs, err := openExt(args[0])
	if err != nil {
		return err
	}
	defer dev.Close()
	if fs.Replay == nil {
		return fmt.Errorf("%s: nothing replayed: %s", dev.Name(), fs.JournalState())
	}
	rp, err := fs.ReplayChanges()
	if err != nil {
		return err
	}
	return emit(cmd, rp, func(w io.Writer) error {
		fmt.Fprintln(w, fs.JournalState())
		rows := [][]string{}
		for _, b := range rp.Blocks {
			rows = append(rows, []string{fmt.Sprint(b.Block), fmt.Sprint(b.Sequence), b.What})
		}
		if err := render.Table(w, []string{"block", "transaction", "holds"}, rows); err != nil {
			return err
		}
		if len(rp.Revoked) > 0 {
			fmt.Fprintln(w, "revoked (logged, not replayed):", strings.Trim(fmt.Sprint(rp.Revoked), "[]"))
		}
		for _, s := range rp.Skipped {
			fmt.Fprintln(w, "skipped:", s)
		}
		rows = rows[:0]
		for _, in := range rp.Inodes {
			where := strings.Join(in.Paths, " ")
			if where == "" && in.OldPath != "" {
				where = "(was " + in.OldPath + ")"
			}
			rows = append(rows, []string{fmt.Sprint(in.Inode), where, in.Before, in.After})
		}
		fmt.Fprintln(w)
		return render.Table(w, []string{"inode", "path", "on disk", "after replay"}, rows)
	})
}

type extInfo struct {
	Device           string          `json:"device"`
	SuperblockOffset int64           `json:"superblock_offset"`
	Group            uint16          `json:"superblock_group"`
	Why              string          `json:"why"`
	UUID             string          `json:"uuid"`
	Label            string          `json:"label"`
	LastMounted      string          `json:"last_mounted"`
	BlockSize        int             `json:"block_size"`
	Blocks           uint64          `json:"blocks"`
	FreeBlocks       uint64          `json:"free_blocks"`
	Inodes           uint32          `json:"inodes"`
	FreeInodes       uint32          `json:"free_inodes"`
	InodeSize        uint16          `json:"inode_size"`
	Groups           uint32          `json:"groups"`
	BlocksPerGroup   uint32          `json:"blocks_per_group"`
	InodesPerGroup   uint32          `json:"inodes_per_group"`
	Features         []string        `json:"features"`
	MkfsTime         string          `json:"mkfs_time,omitempty"`
	WriteTime        string          `json:"write_time,omitempty"`
	MountTime        string          `json:"mount_time,omitempty"`
	SuperChecksumOK  *bool           `json:"checksum_ok"`
	GroupChecksumBad int             `json:"group_checksum_errors"`
	BackupOffsets    []int64         `json:"backup_offsets"`
	Candidates       []ext.Candidate `json:"candidates,omitempty"`
	Problems         []string        `json:"problems"`
}

func runExtInfo(cmd *cobra.Command, args []string) error {
	dev, fs, err := openExt(args[0])
	if err != nil {
		return err
	}
	defer dev.Close()
	sb := fs.SB
	v := extInfo{
		Device: dev.Name(), SuperblockOffset: fs.Choice.Used, Group: fs.Choice.Group, Why: fs.Choice.Why,
		UUID: sb.UUIDString(), Label: sb.VolumeName, LastMounted: sb.LastMounted, BlockSize: sb.BlockSize(),
		Blocks: sb.BlocksCount, FreeBlocks: sb.FreeBlocksCount, Inodes: sb.InodesCount, FreeInodes: sb.FreeInodesCount,
		InodeSize: sb.InodeSize, Groups: sb.GroupCount(), BlocksPerGroup: sb.BlocksPerGroup, InodesPerGroup: sb.InodesPerGroup,
		Features: sb.Features(), MkfsTime: rfc3339(sb.MkfsTime), WriteTime: rfc3339(sb.WriteTime), MountTime: rfc3339(sb.MountTime),
		GroupChecksumBad: fs.GroupChecksumErrors, BackupOffsets: sb.BackupOffsets(), Problems: fs.Problems(),
	}
	if v.Problems == nil {
		v.Problems = []string{}
	}
	if sb.ChecksumPresent {
		ok := sb.ChecksumOK
		v.SuperChecksumOK = &ok
	}
	// Candidates are shown when they disagree: more than one filesystem, or
	// a copy that failed a check.
	uuids := map[string]bool{}
	disagree := false
	for _, c := range fs.Choice.Candidates {
		uuids[c.UUID] = true
		disagree = disagree || !c.RootDirOK || !c.GroupsOK
	}
	if len(uuids) > 1 || disagree {
		v.Candidates = fs.Choice.Candidates
	}
	return emit(cmd, v, func(w io.Writer) error {
		check := "not present"
		if v.SuperChecksumOK != nil {
			check = map[bool]string{true: "ok", false: "BAD"}[*v.SuperChecksumOK]
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
				c.MkfsTime, yesNo(c.GroupsOK), yesNo(c.RootInodeOK), yesNo(c.RootDirOK), fmt.Sprint(c.Copies), c.Problem})
		}
		return render.Table(w, []string{"", "offset", "group", "uuid", "block", "created", "groups", "root inode", "root dir", "copies", "problem"}, rows)
	})
}

func yesNo(b bool) string {
	if b {
		return "ok"
	}
	return "BAD"
}

// extEntry is one line of ls.
type extEntry struct {
	Name     string `json:"name"`
	Inode    uint32 `json:"inode"`
	Type     string `json:"type"`
	Mode     uint16 `json:"mode"` // full i_mode, type bits included
	FileType uint8  `json:"dirent_type"`
	UID      uint32 `json:"uid"`
	GID      uint32 `json:"gid"`
	Size     uint64 `json:"size"`
	Mtime    string `json:"mtime"`
	Deleted  bool   `json:"deleted,omitempty"`
	// Encrypted: Name is the no-key form of a ciphertext name (ext.DirEntry).
	Encrypted bool   `json:"encrypted,omitempty"`
	Error     string `json:"error,omitempty"`
}

func runExtLs(cmd *cobra.Command, args []string) error {
	dev, fs, err := openExt(args[0])
	if err != nil {
		return err
	}
	defer dev.Close()
	p := "/"
	if len(args) > 1 {
		p = args[1]
	}
	dir, err := fs.Lookup(p)
	if err != nil {
		return err
	}
	read := fs.ReadDir
	if deleted, _ := cmd.Flags().GetBool("deleted"); deleted {
		read = fs.ReadDirWithDeleted
	}
	entries, dirErr := read(dir)
	if dirErr != nil && len(entries) == 0 {
		return dirErr
	}
	list := make([]extEntry, 0, len(entries))
	for _, e := range entries {
		x := extEntry{Name: e.Name, Inode: e.Inode, FileType: e.Type, Deleted: e.Deleted, Encrypted: e.Encrypted}
		if e.Encrypted {
			x.Name = fmt.Sprintf("%s (encrypted name, %d bytes of ciphertext)", e.Name, e.NameBytes)
		}
		if e.Deleted {
			list = append(list, x) // its inode may belong to another file by now
			continue
		}
		if in, err := fs.Inode(e.Inode); err != nil {
			x.Error = err.Error()
		} else {
			x.Type, x.Mode, x.UID, x.GID, x.Size, x.Mtime = in.TypeName(), in.Mode, in.UID, in.GID, in.Size, rfc3339(in.Mtime)
		}
		list = append(list, x)
	}
	err = emit(cmd, list, func(w io.Writer) error {
		for _, x := range list {
			// The layout of debugfs ls -l, so the two can be diffed.
			mt := ""
			if t, err := time.Parse(time.RFC3339, x.Mtime); err == nil {
				mt = fmt.Sprintf("%2d-%s", t.Day(), t.Format("Jan-2006 15:04"))
			}
			lbr, rbr := " ", " "
			if x.Deleted {
				lbr, rbr, mt = "<", ">", strings.Repeat(" ", 17) // as debugfs ls -d, but with the stale inode number
			}
			if _, err := fmt.Fprintf(w, "%s%6d%s %6o (%d)  %5d  %5d   %5d %s %s\n", lbr, x.Inode, rbr, x.Mode, x.FileType, x.UID, x.GID, x.Size, mt, x.Name); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil && dirErr != nil {
		fmt.Fprintln(cmd.ErrOrStderr(), "holmes: warning:", dirErr)
	}
	return err
}

func runExtStat(cmd *cobra.Command, args []string) error {
	dev, fs, err := openExt(args[0])
	if err != nil {
		return err
	}
	defer dev.Close()
	in, err := fs.Lookup(args[1])
	if err != nil {
		return err
	}
	return emit(cmd, fs.StatInode(in), func(w io.Writer) error { return fs.WriteDebugfsStat(w, in) })
}

func runExtCat(cmd *cobra.Command, args []string) error {
	dev, fs, err := openExt(args[0])
	if err != nil {
		return err
	}
	defer dev.Close()
	in, err := fs.Lookup(args[1])
	if err != nil {
		return err
	}
	if in.IsDir() {
		return fmt.Errorf("%s: is a directory", args[1])
	}
	r, err := fs.Reader(in)
	if err != nil {
		return err
	}
	_, err = io.Copy(cmd.OutOrStdout(), io.NewSectionReader(r, 0, r.Size()))
	return err
}

type extFindResult struct {
	Matches  []ext.Match `json:"matches"`
	LostDirs []string    `json:"lost_dirs"`
	Problems []string    `json:"problems"`
}

func runExtFind(cmd *cobra.Command, args []string) error {
	dev, fs, err := openExt(args[0])
	if err != nil {
		return err
	}
	defer dev.Close()
	glob, _ := cmd.Flags().GetString("name")
	lost, _ := cmd.Flags().GetBool("lost")
	roots := []string{"/"}
	if len(args) > 1 {
		roots = []string{args[1]}
	}
	matches, problems, err := fs.Find(roots, glob)
	if err != nil {
		return usageError{err}
	}
	res := extFindResult{Matches: matches, LostDirs: []string{}, Problems: problems}
	if len(args) == 1 && (lost || len(problems) > 0) {
		// Names are damaged somewhere: rebuild from the inode table and also
		// walk every directory whose own name is lost.
		ns, err := fs.ScanInodes()
		if err != nil {
			return err
		}
		more, moreProblems, _ := fs.Find(ns.Roots()[1:], glob)
		res.Matches = append(res.Matches, more...)
		res.Problems = append(res.Problems, moreProblems...)
		res.LostDirs = ns.Roots()[1:]
	}
	if res.Matches == nil {
		res.Matches = []ext.Match{}
	}
	if res.Problems == nil {
		res.Problems = []string{}
	}
	err = emit(cmd, res, func(w io.Writer) error {
		for _, m := range res.Matches {
			if _, err := fmt.Fprintln(w, m.Path); err != nil {
				return err
			}
		}
		return nil
	})
	if !jsonOutput {
		for _, p := range res.Problems {
			fmt.Fprintln(cmd.ErrOrStderr(), "holmes: warning:", p)
		}
	}
	return err
}

func runExtExtract(cmd *cobra.Command, args []string) error {
	dest := args[2]
	if err := checkDestination(dest, args[0]); err != nil {
		return err
	}
	dev, fs, err := openExt(args[0])
	if err != nil {
		return err
	}
	defer dev.Close()
	if err := os.MkdirAll(dest, 0o755); err != nil {
		return err
	}
	res, err := fs.Extract(args[1], dest)
	if err != nil {
		return err
	}
	return emit(cmd, res, func(w io.Writer) error {
		fmt.Fprintf(w, "extracted %d files (%d bytes), %d directories, %d symlinks into %s\n", res.Files, res.Bytes, res.Dirs, res.Symlinks, dest)
		for _, s := range res.Skipped {
			fmt.Fprintln(w, "skipped:", s)
		}
		return nil
	})
}

// checkDestination refuses a DESTDIR that is the input or lies inside it
// (a directory given as a device path, or the image file itself).
func checkDestination(dest, spec string) error {
	absDest, err := filepath.Abs(dest)
	if err != nil {
		return err
	}
	if r, err := filepath.EvalSymlinks(absDest); err == nil {
		absDest = r
	}
	for _, p := range blockdev.Paths(spec) {
		absIn, err := filepath.Abs(p)
		if err != nil {
			continue
		}
		if r, err := filepath.EvalSymlinks(absIn); err == nil {
			absIn = r
		}
		if absDest == absIn || strings.HasPrefix(absDest, absIn+string(filepath.Separator)) {
			return usageError{fmt.Errorf("extract: destination %s is the input %s or inside it", dest, spec)}
		}
	}
	return nil
}

type extOrphans struct {
	LostDirs     []ext.LostDir `json:"lost_dirs"`
	Unreferenced []extLost     `json:"unreferenced_files"`
	Problems     []string      `json:"problems"`
}

type extLost struct {
	Path  string `json:"path"`
	Inode uint32 `json:"inode"`
	Size  uint64 `json:"size"`
	Mtime string `json:"mtime"`
}

func runExtOrphans(cmd *cobra.Command, args []string) error {
	dev, fs, err := openExt(args[0])
	if err != nil {
		return err
	}
	defer dev.Close()
	ns, err := fs.ScanInodes()
	if err != nil {
		return err
	}
	res := extOrphans{LostDirs: ns.Lost(), Unreferenced: []extLost{}, Problems: ns.Problems}
	if res.Problems == nil {
		res.Problems = []string{}
	}
	for _, in := range ns.Unreferenced {
		res.Unreferenced = append(res.Unreferenced, extLost{Path: ns.Path(in.Num), Inode: in.Num, Size: in.Size, Mtime: rfc3339(in.Mtime)})
	}
	return emit(cmd, res, func(w io.Writer) error {
		rows := [][]string{}
		for _, x := range res.LostDirs {
			hint := ""
			if x.JournalName != "" {
				hint = fmt.Sprintf("%s (transaction %d)", x.JournalName, x.JournalSequence)
			}
			rows = append(rows, []string{"directory", x.Path, fmt.Sprint(x.Parent), fmt.Sprint(x.Entries),
				strings.Join(x.Sample, " "), hint, fmt.Sprint(x.Size), rfc3339(x.Mtime)})
		}
		for _, x := range res.Unreferenced {
			rows = append(rows, []string{"file", x.Path, "", "", "", "", fmt.Sprint(x.Size), x.Mtime})
		}
		if len(rows) == 0 {
			_, err := fmt.Fprintln(w, "no lost directories or unreferenced files")
			return err
		}
		return render.Table(w, []string{"kind", "path", "parent (..)", "entries", "holds", "name in journal", "size", "mtime"}, rows)
	})
}

// rfc3339 formats a time for JSON, "" for an unset one.
func rfc3339(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}
