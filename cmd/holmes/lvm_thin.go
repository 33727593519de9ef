package main

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"holmes/blockdev"
	"holmes/lvmmeta"
	"holmes/render"
	"holmes/thin"
)

// LVMThinOptions are holmes lvm thin's arguments and flags.
type LVMThinOptions struct {
	*Factory
	Source string
	Dump   bool
	// MetadataSnap reads the pool as its metadata snapshot holds it.
	MetadataSnap bool
	JSON         bool
}

// NewCmdLVMThin builds holmes lvm thin; runF replaces the run (tests).
func NewCmdLVMThin(f *Factory, runF func(*LVMThinOptions) error) *cobra.Command {
	opts := &LVMThinOptions{Factory: f}
	cmd := &cobra.Command{
		Use:   "thin DEV|VG/POOL",
		Short: "a thin pool's metadata like thin_ls and thin_dump: devices, mappings, sharing, damage",
		Long: `thin reads a thin pool's metadata without activating anything: from the
pool's metadata LV given as VG/POOL with --case (the VG text then names each
thin device's LV and the transaction id it expects), or from any DEV that
holds the metadata itself (a copy of the _tmeta LV). It prints the
superblock, each thin device with its mapped, exclusive and shared data
blocks as thin_ls does, and every damaged metadata block with the keys it
hides. --dump prints the mappings as thin_dump's XML; --metadata-snap reads
the metadata snapshot (the superblock's held root) instead of the live
metadata, as thin_dump -m does.`,
		Example: `  holmes --case case.json lvm thin pve/data
  holmes lvm thin tmeta.bin --dump`,
		Args: exactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			opts.Source = args[0]
			if runF != nil {
				return runF(opts)
			}
			return lvmThinRun(opts)
		},
	}
	cmd.Flags().BoolVar(&opts.Dump, "dump", false, "print the mappings as thin_dump's XML")
	cmd.Flags().BoolVarP(&opts.MetadataSnap, "metadata-snap", "m", false, "read the pool as its metadata snapshot holds it (thin_dump -m)")
	addJSONFlag(cmd, &opts.JSON)
	return cmd
}

// ThinReport is what holmes lvm thin prints (docs/cli.md).
type ThinReport struct {
	Metadata        string             `json:"metadata"`
	VGTransactionID *int64             `json:"vg_transaction_id"`
	Superblock      *thin.Superblock   `json:"superblock"`
	Devices         []ThinDeviceReport `json:"devices"`
	// VGOnly are the pool's thin LVs in the VG text whose device ids the
	// pool's metadata does not hold.
	VGOnly   []ThinDeviceName `json:"vg_only"`
	Problems []thin.Problem   `json:"problems"`
}

// ThinDeviceName is a thin LV of the VG text with its device id.
type ThinDeviceName struct {
	ID uint64 `json:"dev_id"`
	LV string `json:"lv"`
}

// ThinDeviceReport is a thin device and the LV the VG text gives it.
type ThinDeviceReport struct {
	thin.DeviceReport
	LV string `json:"lv,omitempty"`
}

func lvmThinRun(opts *LVMThinOptions) error {
	if opts.Dump && opts.JSON {
		return usagef("--dump and --json: choose one")
	}
	dev, pool, err := opts.openThinMetadata()
	if err != nil {
		return err
	}
	defer dev.Close()
	p, err := thin.Open(dev, dev.Size())
	if err == nil && opts.MetadataSnap {
		p, err = p.MetadataSnapshot()
	}
	if err != nil {
		return fmt.Errorf("%s: %w", dev.Name(), err)
	}
	rep := &ThinReport{Metadata: dev.Name(), Superblock: p.Super, Problems: p.Problems}
	if pool != nil {
		rep.VGTransactionID = &pool.Segment.TransactionID
	}
	for _, d := range p.Survey() {
		r := ThinDeviceReport{DeviceReport: d}
		if pool != nil {
			r.LV = pool.Volumes[int64(d.ID)]
			if r.LV == "" {
				r.LV = "(not in the VG text)"
			}
		}
		rep.Devices = append(rep.Devices, r)
		rep.Problems = append(rep.Problems, d.Mapping.Problems...)
	}
	if pool != nil {
		for id, lv := range pool.Volumes {
			if p.Device(uint64(id)) == nil {
				rep.VGOnly = append(rep.VGOnly, ThinDeviceName{uint64(id), lv})
			}
		}
		sort.Slice(rep.VGOnly, func(i, j int) bool { return rep.VGOnly[i].ID < rep.VGOnly[j].ID })
	}
	if len(rep.Problems) > 0 {
		fmt.Fprintf(opts.ErrOut, "holmes: warning: %s: %d damaged places in the thin pool metadata; what they hid is listed as lost\n", dev.Name(), len(rep.Problems))
	}
	if opts.Dump {
		return printThinDump(opts.Out, p, rep)
	}
	return emit(opts.Out, opts.JSON, rep, func(w io.Writer) error { return printThin(w, dev, p, rep) })
}

// openThinMetadata opens the pool's metadata: VG/POOL through the case
// file's VG text (which also names the thin LVs), else any DEV (a _tmeta
// LV, a copy of one, a range of a disk where holmes scan found one).
func (opts *LVMThinOptions) openThinMetadata() (blockdev.Device, *lvmmeta.ThinPool, error) {
	if vgName, poolName, ok := strings.Cut(opts.Source, "/"); ok && opts.CaseFile != "" {
		c, err := opts.LoadCase()
		if err != nil {
			return nil, nil, err
		}
		// Another LV (a _tmeta LV itself) is read as the metadata below.
		if vg, err := c.VG(vgName); err == nil {
			if pool, err := vg.ThinPool(poolName); err == nil {
				dev, err := opts.OpenDevice(vgName + "/" + pool.Metadata)
				return dev, pool, err
			}
		}
	}
	dev, err := opts.OpenDevice(opts.Source)
	return dev, nil, err
}

func printThin(w io.Writer, dev blockdev.Device, p *thin.Pool, rep *ThinReport) error {
	sb := p.Super
	check := "ok"
	if !sb.ChecksumOK {
		check = "BAD"
	}
	trans := strconv.FormatUint(sb.TransactionID, 10)
	if v := rep.VGTransactionID; v != nil {
		if uint64(*v) == sb.TransactionID {
			trans += " (the VG text agrees)"
		} else {
			trans += fmt.Sprintf(" (the VG text says %d: lvm will not activate the pool as it is)", *v)
		}
	}
	snap := "none"
	if sb.MetadataSnap != 0 {
		snap = "block " + strconv.FormatUint(sb.MetadataSnap, 10)
	}
	if err := render.KeyValues(w, [][2]string{
		{"Metadata", fmt.Sprintf("%s (%d bytes)", dev.Name(), dev.Size())},
		{"Superblock", fmt.Sprintf("checksum %s, version %d, flags %d", check, sb.Version, sb.Flags)},
		{"Transaction", trans},
		{"Time", strconv.FormatUint(uint64(sb.Time), 10)},
		{"Data block size", fmt.Sprintf("%d bytes (%d sectors)", sb.DataBlockBytes(), sb.DataBlockSize)},
		{"Data blocks", fmt.Sprintf("%d, %d in use", sb.DataSpaceMap.NrBlocks, sb.DataSpaceMap.NrAllocated)},
		{"Metadata blocks", fmt.Sprintf("%d, %d in use", sb.MetaSpaceMap.NrBlocks, sb.MetaSpaceMap.NrAllocated)},
		{"Metadata snapshot", snap},
	}); err != nil {
		return err
	}
	fmt.Fprintln(w)
	var rows [][]string
	for _, d := range rep.Devices {
		u := d.Usage
		highest := "-"
		if u.AnyMapped {
			highest = strconv.FormatUint(u.Highest, 10)
		}
		row := []string{strconv.FormatUint(d.ID, 10), d.LV, strconv.FormatUint(u.Mapped, 10),
			strconv.FormatUint(u.Exclusive, 10), strconv.FormatUint(u.Shared, 10), highest}
		if det := d.Details; det != nil {
			row = append(row, strconv.FormatUint(det.TransactionID, 10), strconv.FormatUint(uint64(det.CreationTime), 10), strconv.FormatUint(uint64(det.SnapTime), 10))
		} else {
			row = append(row, "lost", "lost", "lost")
		}
		row = append(row, lostSummary(d))
		rows = append(rows, row)
	}
	if err := render.Table(w, []string{"DEV", "LV", "MAPPED_BLOCKS", "EXCLUSIVE_BLOCKS", "SHARED_BLOCKS", "HIGHEST_MAPPED", "TRANSACTION", "CREATE_TIME", "SNAP_TIME", "LOST"}, rows); err != nil {
		return err
	}
	for _, v := range rep.VGOnly {
		fmt.Fprintf(w, "not in the pool: %s (device id %d in the VG text)\n", v.LV, v.ID)
	}
	for _, pr := range rep.Problems {
		fmt.Fprintf(w, "damage: %s\n", pr)
	}
	return nil
}

// lostSummary says which virtual blocks of a device are unknown.
func lostSummary(d ThinDeviceReport) string {
	if !d.HasRoot {
		return "all (its mapping tree is lost)"
	}
	var parts []string
	for _, l := range d.Mapping.Lost {
		parts = append(parts, l.String())
	}
	return strings.Join(parts, " ")
}

// printThinDump prints the metadata as thin_dump's XML does.
func printThinDump(w io.Writer, p *thin.Pool, rep *ThinReport) error {
	sb := p.Super
	fmt.Fprintf(w, "<superblock uuid=\"%s\" time=\"%d\" transaction=\"%d\" flags=\"%d\" version=\"%d\" data_block_size=\"%d\" nr_data_blocks=\"%d\">\n",
		strings.TrimRight(string(sb.UUID[:]), "\x00"), sb.Time, sb.TransactionID, sb.Flags, sb.Version, sb.DataBlockSize, sb.DataSpaceMap.NrBlocks)
	for _, d := range rep.Devices {
		det := d.Details
		if det == nil {
			det = &thin.Details{}
		}
		fmt.Fprintf(w, "  <device dev_id=\"%d\" mapped_blocks=\"%d\" transaction=\"%d\" creation_time=\"%d\" snap_time=\"%d\">\n",
			d.ID, det.MappedBlocks, det.TransactionID, det.CreationTime, det.SnapTime)
		for _, r := range d.Mapping.Runs {
			if r.Length == 1 {
				fmt.Fprintf(w, "    <single_mapping origin_block=\"%d\" data_block=\"%d\" time=\"%d\"/>\n", r.Origin, r.Data, r.Time)
			} else {
				fmt.Fprintf(w, "    <range_mapping origin_begin=\"%d\" data_begin=\"%d\" length=\"%d\" time=\"%d\"/>\n", r.Origin, r.Data, r.Length, r.Time)
			}
		}
		fmt.Fprintln(w, "  </device>")
	}
	_, err := fmt.Fprintln(w, "</superblock>")
	return err
}
