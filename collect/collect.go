// Package collect keeps what the next rescue needs from a set of disks —
// every metadata region of every layer, mapped down to the disks — in one
// tar with a manifest, and reads such an archive back as the disks it
// holds, every byte it did not keep unreadable (docs/collect.md).
package collect

import (
	"context"
	"fmt"
	"io"
	"slices"
	"time"

	"holmes/blockdev"
	"holmes/smart"
	"holmes/triage"
)

// Options bound what is kept and say what may be run.
type Options struct {
	// Smartctl is the program run for smartctl -x -j on block devices; ""
	// never runs it.
	Smartctl string
	// MaxPerDisk bounds the bytes kept per disk (default 64 MiB); regions
	// past it are left out and the manifest's warnings say so.
	MaxPerDisk int64
	// MaxWalk bounds, per filesystem, the bytes of its directory tree kept
	// (the inode table blocks and directories a walk from the root reads;
	// default 16 MiB).
	MaxWalk int64
	// MaxDivergence bounds, per array, the bytes kept where mirror halves
	// differ (default 16 MiB).
	MaxDivergence int64
	// Progress, if set, is told each stage as it starts.
	Progress func(stage string)
	// Now stamps the manifest (default time.Now).
	Now func() time.Time
}

func (o *Options) defaults() {
	if o.MaxPerDisk <= 0 {
		o.MaxPerDisk = 64 << 20
	}
	if o.MaxWalk <= 0 {
		o.MaxWalk = 16 << 20
	}
	if o.MaxDivergence <= 0 {
		o.MaxDivergence = 16 << 20
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Progress == nil {
		o.Progress = func(string) {}
	}
}

// Collect reads the devices named by specs (opened with open, which must
// open them read-only), learns their stack as triage does, and writes the
// archive to w: per device, every metadata region of the device, of its
// partitions and of every array, logical volume and filesystem above it,
// mapped down to the device's own bytes. It never writes to a device. A
// device that cannot be opened is an error: a collection is of all the
// disks named or of none.
func Collect(ctx context.Context, specs []string, open func(string) (blockdev.Device, error), w io.Writer, opt Options) (*Manifest, error) {
	opt.defaults()
	t, err := triage.Run(ctx, specs, open, triage.Options{Progress: func(s string) { opt.Progress("stack: " + s) }})
	if t != nil {
		defer t.Close()
	}
	if err != nil {
		return nil, err
	}
	for _, d := range t.Result.Devices {
		if d.Error != "" {
			return nil, fmt.Errorf("collect: %s", d.Error)
		}
	}
	g := newGatherer(t, opt)
	defer g.close()
	opt.Progress("metadata regions")
	g.gather()
	g.limit(t.Disks())
	opt.Progress("reading")
	m := &Manifest{Format: Format, Created: opt.Now().UTC().Truncate(time.Second), Devices: []Device{}, Warnings: g.warnings}
	data := map[string][]byte{}
	for i, d := range t.Disks() {
		dev, err := g.read(d, fmt.Sprintf("holmes-collect/%d", i), data)
		if err != nil {
			return nil, err
		}
		dev.BlockDevice = smart.IsDevice(d.Name())
		if dev.BlockDevice && opt.Smartctl != "" {
			out, err := smart.QueryOutput(ctx, opt.Smartctl, d.Name())
			if err != nil {
				dev.SMARTError = err.Error()
			} else {
				f := File{File: fmt.Sprintf("holmes-collect/%d/smartctl.json", i), BLAKE3: sum(out)}
				dev.SMART, data[f.File] = &f, out
			}
		}
		m.Devices = append(m.Devices, *dev)
	}
	if m.Warnings == nil {
		m.Warnings = []string{}
	}
	opt.Progress("writing")
	if err := write(w, m, data); err != nil {
		return nil, err
	}
	return m, nil
}

// read reads the regions kept of disk d into data, naming each member
// under dir, and returns the device's manifest entry. Bytes the disk
// itself cannot give (a ddrescue gap) are left out of the regions.
func (g *gatherer) read(d blockdev.Device, dir string, data map[string][]byte) (*Device, error) {
	dev := &Device{Name: d.Name(), Size: d.Size(), Regions: []Region{}}
	kept := g.kept[d.Name()]
	if kept == nil {
		return dev, nil
	}
	for _, e := range normalize(kept.pieces, d.Size()) {
		buf := make([]byte, e.Len)
		gaps, err := blockdev.ReadAround(d, buf, e.Off)
		if err != nil {
			return nil, fmt.Errorf("collect: %s: reading %d+%d: %w", d.Name(), e.Off, e.Len, err)
		}
		var holes []blockdev.Extent
		for _, g := range gaps {
			holes = append(holes, blockdev.Extent{Off: g.Off - e.Off, Len: g.Len})
		}
		readable := blockdev.Complement(holes, e.Len)
		for _, r := range readable {
			b := buf[r.Off:r.End()]
			off := e.Off + r.Off
			reg := Region{Offset: off, Length: r.Len, What: kept.what(off, r.Len)}
			reg.File = File{File: fmt.Sprintf("%s/%d+%d", dir, off, r.Len), BLAKE3: sum(b)}
			data[reg.File.File] = b
			dev.Regions = append(dev.Regions, reg)
		}
	}
	return dev, nil
}

// normalize merges the pieces kept: the complement of the complement.
func normalize(pieces []piece, size int64) []blockdev.Extent {
	es := make([]blockdev.Extent, len(pieces))
	for i, p := range pieces {
		es[i] = p.Extent
	}
	return blockdev.Complement(blockdev.Complement(es, size), size)
}

// piece is a byte range of a disk kept, and why.
type piece struct {
	blockdev.Extent
	what string
}

// keptRegions is what is kept of one disk.
type keptRegions struct {
	pieces []piece
}

// maxWhat bounds the reasons listed per region.
const maxWhat = 16

// what lists, once each, why the pieces overlapping [off, off+n) were kept.
func (k *keptRegions) what(off, n int64) []string {
	var w []string
	for _, p := range k.pieces {
		if p.Off < off+n && off < p.End() && !slices.Contains(w, p.what) {
			if len(w) == maxWhat {
				w = append(w, "and more")
				break
			}
			w = append(w, p.what)
		}
	}
	return w
}
