package main

import (
	"fmt"
	"io"

	"os"
	"strings"

	"github.com/spf13/cobra"

	"holmes/ext"
	"holmes/internal/safewrite"
	"holmes/render"
)

// ExtExtractOptions are holmes ext extract's arguments and flags.
type ExtExtractOptions struct {
	extSource
	Source, DestDir string
	JSON            bool
	// KeepSetID and SameOwner say what of the untrusted image's metadata
	// is restored (docs/hostile-input.md).
	KeepSetID, SameOwner bool
	// Lost always brings back lost directories and unnamed files when
	// extracting / (done anyway when the root or a directory is damaged).
	Lost bool
}

// NewCmdExtExtract builds holmes ext extract; runF replaces the run (tests).
func NewCmdExtExtract(f *Factory, runF func(*ExtExtractOptions) error) *cobra.Command {
	opts := &ExtExtractOptions{extSource: extSource{Factory: f}}
	cmd := &cobra.Command{
		Use:   "extract DEV SRC DESTDIR",
		Short: "copy a file or tree out, with modes and times, writing only under DESTDIR",
		Long: `extract copies the file or directory tree SRC out of the filesystem into
DESTDIR, like cp -r: SRC's last name is created inside DESTDIR (/ as root,
#12 as inode12), with modes and times. Only DESTDIR is written; a DESTDIR
that is the input or inside it is refused. What cannot be read is listed as
skipped.

Extracting / when the root directory is lost or a directory is damaged (or
with --lost) also brings back what no readable directory names, like
e2fsck's lost+found but read-only: each such directory and file #N goes to
DESTDIR/inodeN (the name extracting #N gives it), with the name the journal
remembers for it; the summary says what came back and what did not.

Bytes the device lacks (gaps of a ddrescue image given with --map) do not
stop the extraction: a file is written with what could be read, the gaps
left as holes, and named on stderr (and in --json) with the byte ranges
lost, in the file's own offsets; an unreadable directory block, inode or
block map is named with what it cost. Then the exit status is 4.`,
		Example: `  holmes ext extract vg/home /guests out/ --case case.json`,
		Args:    exactArgs(3),
		RunE: func(_ *cobra.Command, args []string) error {
			opts.Device, opts.Source, opts.DestDir = args[0], args[1], args[2]
			if runF != nil {
				return runF(opts)
			}
			return extExtractRun(opts)
		},
	}
	opts.addFlags(cmd)
	addJSONFlag(cmd, &opts.JSON)
	cmd.Flags().BoolVar(&opts.KeepSetID, "keep-setid", false, "keep setuid and setgid bits (dropped by default: the image is untrusted)")
	cmd.Flags().BoolVar(&opts.Lost, "lost", false, "with SRC /, always scan the inode table for lost directories and unnamed files (done anyway when the root or a directory is damaged)")
	cmd.Flags().BoolVar(&opts.SameOwner, "same-owner", false, "restore owners and groups, as tar --same-owner (needs root; by default files belong to whoever extracts)")
	return cmd
}

func extExtractRun(opts *ExtExtractOptions) error {
	dest := opts.DestDir
	if err := safewrite.Check(dest, []string{opts.Device}, safewrite.Kind{}); err != nil {
		return usageError{err}
	}
	dev, fs, err := opts.open()
	if err != nil {
		return err
	}
	defer dev.Close()
	if err := os.MkdirAll(dest, 0o755); err != nil {
		return err
	}
	res, err := fs.Extract(opts.Source, dest, ext.ExtractOptions{KeepSetID: opts.KeepSetID, SameOwner: opts.SameOwner, Lost: opts.Lost})
	if err != nil {
		return err
	}
	err = emit(opts.Out, opts.JSON, res, func(w io.Writer) error {
		fmt.Fprintf(w, "extracted %d files (%d bytes), %d directories, %d symlinks into %s\n", res.Files, res.Bytes, res.Dirs, res.Symlinks, dest)
		if res.Lost != nil {
			if err := renderLostRecovery(w, res.Lost); err != nil {
				return err
			}
		}
		for _, s := range res.Skipped {
			fmt.Fprintln(w, "skipped:", s)
		}
		return nil
	})
	if err != nil || !res.Damage() {
		return err
	}
	return reportDamage(opts.ErrOut, res)
}

// reportDamage names, on stderr, every file written with bytes missing and
// every piece of metadata that could not be read, and ends the command
// with exit status 4 (docs/cli.md): the extraction finished, but data is lost.
func reportDamage(w io.Writer, res *ext.ExtractResult) error {
	for _, d := range res.Damaged {
		ranges := make([]string, len(d.Lost))
		for i, r := range d.Lost {
			ranges[i] = fmt.Sprintf("%d-%d", r.Start, r.End-1)
		}
		fmt.Fprintf(w, "damaged: %s: %d of %d bytes unreadable, left as holes: bytes %s\n", d.Path, d.LostBytes, d.Size, strings.Join(ranges, ", "))
	}
	for _, m := range res.UnreadableMetadata {
		fmt.Fprintf(w, "unreadable %s: %s (inode %d): %s: %s\n", m.What, m.Path, m.Inode, m.Cost, m.Error)
	}
	return exitStatus{4, fmt.Errorf("ext extract: data lost to unreadable ranges: %d files damaged, %d pieces of metadata unreadable", len(res.Damaged), len(res.UnreadableMetadata))}
}

// renderLostRecovery prints what extracting / brought back beyond the
// tree: a row per lost directory and unnamed file, and the counts.
func renderLostRecovery(w io.Writer, l *ext.LostRecovery) error {
	if l.RootProblem != "" {
		fmt.Fprintln(w, l.RootProblem)
	}
	if len(l.Dirs)+len(l.Files) > 0 {
		fmt.Fprintln(w, "what no readable directory names, each as inodeN:")
		rows := [][]string{}
		add := func(kind string, x ext.LostExtract) {
			hint, parent := "", ""
			if x.JournalName != "" {
				hint = fmt.Sprintf("%s (transaction %d)", x.JournalName, x.JournalSequence)
			}
			if x.Parent != 0 {
				parent = fmt.Sprint(x.Parent)
			}
			rows = append(rows, []string{kind, x.Path, x.ExtractedAs, parent, hint, fmt.Sprint(x.Files), fmt.Sprint(x.Bytes), shortProblem(x.Problem)})
		}
		for _, x := range l.Dirs {
			add("directory", x)
		}
		for _, x := range l.Files {
			add("file", x)
		}
		if err := render.Table(w, []string{"kind", "inode", "extracted as", "parent (..)", "name in journal", "files", "bytes", "problem"}, rows); err != nil {
			return err
		}
	}
	if l.JournalProblem != "" {
		fmt.Fprintf(w, "no names from the journal: %s\n", l.JournalProblem)
	}
	if len(l.Foreign) > 0 {
		fmt.Fprintf(w, "not extracted: %d inodes of the filesystem written over this one (UUID %s): %s\n", len(l.Foreign), l.Foreign[0].UUID, foreignList(l.Foreign))
	}
	fmt.Fprintf(w, "came back: %d lost directories with what they hold, %d unnamed files; did not: %d lost directories unreadable (created empty), %d unnamed files\n",
		l.DirsRead, l.FilesRecovered, l.DirsUnreadable, l.FilesFailed)
	return nil
}

// shortProblem keeps the end of an error chain for the table ("all
// zeros"); the whole of it is in the skipped lines and the JSON.
func shortProblem(p string) string {
	if i := strings.LastIndex(p, ": "); i >= 0 {
		return p[i+2:]
	}
	return p
}

// foreignList names foreign inodes as "#402 (its inode 2, directory)".
func foreignList(fs []ext.ForeignInode) string {
	parts := make([]string, len(fs))
	for i, f := range fs {
		parts[i] = fmt.Sprintf("#%d (its inode %d, %s)", f.Inode, f.Theirs, f.Type)
	}
	return strings.Join(parts, ", ")
}
