package main

import (
	"encoding/base64"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"holmes/blockdev"
	"holmes/dmcache"
	"holmes/pdata"
	"holmes/render"
)

// LVMCacheOptions are holmes lvm cache's arguments and flags.
type LVMCacheOptions struct {
	*Factory
	Source string
	Dump   bool
	JSON   bool
}

// NewCmdLVMCache builds holmes lvm cache; runF replaces the run (tests).
func NewCmdLVMCache(f *Factory, runF func(*LVMCacheOptions) error) *cobra.Command {
	opts := &LVMCacheOptions{Factory: f}
	cmd := &cobra.Command{
		Use:   "cache DEV|VG/LV",
		Short: "a dm-cache LV's metadata like cache_dump: mappings, dirty blocks, damage",
		Long: `cache reads a dm-cache LV's metadata without activating anything: from
the cached LV given as VG/LV with --case (its cache pool's _cmeta LV, or the
metadata area of its cache volume), or from any DEV that holds the metadata
itself (a copy of the _cmeta LV). It prints the superblock, how many cache
blocks hold origin blocks and how many of those are dirty (their current
data only in the cache) with their origin blocks, and every damaged
metadata block with the cache blocks it hides. --dump prints the mappings
and hints as cache_dump's XML.`,
		Example: `  holmes --case case.json lvm cache vg/cached
  holmes lvm cache cmeta.bin --dump`,
		Args: exactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			opts.Source = args[0]
			if runF != nil {
				return runF(opts)
			}
			return lvmCacheRun(opts)
		},
	}
	cmd.Flags().BoolVar(&opts.Dump, "dump", false, "print the mappings and hints as cache_dump's XML")
	addJSONFlag(cmd, &opts.JSON)
	return cmd
}

// CacheReport is what holmes lvm cache prints (docs/cli.md).
type CacheReport struct {
	Metadata   string              `json:"metadata"`
	Superblock *dmcache.Superblock `json:"superblock"`
	Mapped     int                 `json:"mapped"`
	Dirty      int                 `json:"dirty"`
	DirtyRuns  []dmcache.Range     `json:"dirty_origin_blocks"`
	Mappings   []dmcache.Mapping   `json:"mappings"`
	Problems   []pdata.Problem     `json:"problems"`
	Untrusted  string              `json:"untrusted,omitempty"`
}

func lvmCacheRun(opts *LVMCacheOptions) error {
	if opts.Dump && opts.JSON {
		return usagef("--dump and --json: choose one")
	}
	dev, err := opts.openCacheMetadata()
	if err != nil {
		return err
	}
	defer dev.Close()
	m, err := dmcache.Open(dev, dev.Size())
	if err != nil {
		return fmt.Errorf("%s: %w", dev.Name(), err)
	}
	rep := &CacheReport{Metadata: dev.Name(), Superblock: m.Super, Mapped: len(m.Mappings), Dirty: len(m.Dirty()),
		DirtyRuns: m.DirtyRanges(), Mappings: m.Mappings, Problems: append([]pdata.Problem{}, m.Problems...)}
	if err := m.Trusted(); err != nil {
		rep.Untrusted = err.Error()
		fmt.Fprintf(opts.ErrOut, "holmes: warning: %s: %s\n", dev.Name(), err)
	}
	if opts.Dump {
		return printCacheDump(opts.Out, m)
	}
	return emit(opts.Out, opts.JSON, rep, func(w io.Writer) error { return printCache(w, dev, rep) })
}

// openCacheMetadata opens the cache's metadata: VG/LV through the case
// file's VG text, else any DEV (a _cmeta LV, a copy of one).
func (opts *LVMCacheOptions) openCacheMetadata() (blockdev.Device, error) {
	if vgName, lv, ok := strings.Cut(opts.Source, "/"); ok && opts.CaseFile != "" {
		c, err := opts.LoadCase()
		if err != nil {
			return nil, err
		}
		// Another LV (a _cmeta LV itself) is read as the metadata below.
		if vg, err := c.VG(vgName); err == nil {
			if a, err := vg.CacheAreas(lv); err == nil {
				d, err := opts.OpenDevice(vgName + "/" + a.MetaLV)
				if err != nil || a.Meta == nil {
					return d, err
				}
				area, err := blockdev.Slice(d, a.Meta.Off, a.Meta.Len, d.Name()+"-cmeta")
				if err != nil {
					d.Close()
					return nil, err
				}
				return blockdev.Stack(area, d), nil
			}
		}
	}
	return opts.OpenDevice(opts.Source)
}

func printCache(w io.Writer, dev blockdev.Device, rep *CacheReport) error {
	sb := rep.Superblock
	check := "ok"
	if !sb.ChecksumOK {
		check = "BAD"
	}
	var flags []string
	if sb.CleanShutdown() {
		flags = append(flags, "clean shutdown")
	} else {
		flags = append(flags, "NOT a clean shutdown (every mapped block counts as dirty, as the kernel counts them)")
	}
	if sb.Flags&dmcache.FlagNeedsCheck != 0 {
		flags = append(flags, "needs check")
	}
	dirty := fmt.Sprint(rep.Dirty)
	if len(rep.DirtyRuns) > 0 {
		var runs []string
		for _, r := range rep.DirtyRuns {
			runs = append(runs, pdata.KeyRange(r.First, r.Last))
		}
		dirty += ": origin blocks " + strings.Join(runs, ", ")
	}
	if len(rep.Problems) > 0 {
		dirty += " (of the mappings read: damage hides the rest)"
	}
	if err := render.KeyValues(w, [][2]string{
		{"Metadata", fmt.Sprintf("%s (%d bytes)", dev.Name(), dev.Size())},
		{"Superblock", fmt.Sprintf("checksum %s, format %d, %s", check, sb.Version, strings.Join(flags, ", "))},
		{"Policy", fmt.Sprintf("%s %d.%d.%d, hints of %d bytes", sb.Policy, sb.PolicyVersion[0], sb.PolicyVersion[1], sb.PolicyVersion[2], sb.PolicyHintSize)},
		{"Cache block size", fmt.Sprintf("%d bytes (%d sectors)", sb.BlockBytes(), sb.DataBlockSize)},
		{"Cache blocks", fmt.Sprintf("%d, %d holding an origin block", sb.CacheBlocks, rep.Mapped)},
		{"Dirty", dirty},
		{"Statistics", fmt.Sprintf("read hits %d, read misses %d, write hits %d, write misses %d", sb.ReadHits, sb.ReadMisses, sb.WriteHits, sb.WriteMisses)},
	}); err != nil {
		return err
	}
	for _, pr := range rep.Problems {
		fmt.Fprintf(w, "damage: %s\n", pr)
	}
	if rep.Untrusted != "" {
		fmt.Fprintln(w, "holmes does not read through this cache: "+rep.Untrusted)
	}
	return nil
}

// printCacheDump prints the metadata as cache_dump's XML does: the
// mappings, then the hints of the mapped blocks.
func printCacheDump(w io.Writer, m *dmcache.Metadata) error {
	hints, problems, err := m.Hints()
	if err != nil {
		return err
	}
	sb := m.Super
	fmt.Fprintf(w, "<superblock uuid=\"%s\" block_size=\"%d\" nr_cache_blocks=\"%d\" policy=\"%s\" hint_width=\"%d\">\n",
		strings.TrimRight(string(sb.UUID[:]), "\x00"), sb.DataBlockSize, sb.CacheBlocks, sb.Policy, sb.PolicyHintSize)
	fmt.Fprintln(w, "  <mappings>")
	for _, mp := range m.Mappings {
		fmt.Fprintf(w, "    <mapping cache_block=\"%d\" origin_block=\"%d\" dirty=\"%s\"/>\n", mp.CacheBlock, mp.OriginBlock, strconv.FormatBool(mp.Dirty))
	}
	fmt.Fprintln(w, "  </mappings>")
	fmt.Fprintln(w, "  <hints>")
	for _, mp := range m.Mappings {
		if h, ok := hints[mp.CacheBlock]; ok {
			fmt.Fprintf(w, "    <hint cache_block=\"%d\" data=\"%s\"/>\n", mp.CacheBlock, base64.StdEncoding.EncodeToString(h))
		}
	}
	fmt.Fprintln(w, "  </hints>")
	for _, pr := range problems {
		fmt.Fprintf(w, "<!-- damage: %s -->\n", pr)
	}
	_, err = fmt.Fprintln(w, "</superblock>")
	return err
}
