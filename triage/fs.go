package triage

import (
	"fmt"
	"slices"
	"strings"

	"holmes/blockdev"
	"holmes/casefile"
	"holmes/ext"
	"holmes/lvmmeta"
	"holmes/mdraid"
)

// assemble opens an array over its trusted members.
func (t *Triage) assemble(a *array) {
	if a.res.Ambiguous {
		return
	}
	if a.res.Trusted == nil {
		a.res.Trusted = slices.Clone(a.res.Members)
	}
	devs := make([]blockdev.Device, len(a.members))
	for i, m := range a.members {
		if m != nil && a.res.Trusted[i] != "" {
			devs[i] = m.dev
		}
	}
	arr, err := mdraid.Open(a.geom, devs, a.res.Name)
	if err != nil {
		t.warn("%s: cannot assemble: %v", a.res.Name, err)
		return
	}
	t.closers = append(t.closers, arr)
	a.dev = arr
}

// opensAsContent: the device holds an ext filesystem or a partition table.
func opensAsContent(d blockdev.Device) bool {
	if _, err := ext.Open(d, d.Size(), ext.Options{}); err == nil {
		return true
	}
	_, err := blockdev.ReadPartitionTable(d)
	return err == nil
}

// checkFilesystems opens every LV of the chosen VGs (and the partitions of
// a table inside one), every array that is no PV, and every spare unit, and
// says what filesystem each holds.
func (t *Triage) checkFilesystems() {
	pvDevs := map[string]bool{}
	for _, g := range t.vgs {
		for _, d := range g.pvs {
			pvDevs[d.Name()] = true
		}
	}
	for _, a := range t.arrays {
		if a.dev != nil && !pvDevs[a.dev.Name()] {
			t.checkDevice(a.dev, a.dev.Name())
		}
	}
	for _, g := range t.vgs {
		if len(g.pvs) < len(g.vg.PVs) {
			continue // a PV is missing; findVolumeGroups said which
		}
		for _, lv := range g.vg.LVs {
			if !holdsData(lv) {
				continue
			}
			name := g.vg.Name + "/" + lv.Name
			d, err := lvmmeta.OpenLV(g.vg, lv.Name, g.pvs)
			if err != nil {
				t.warn("%s: %v", name, err)
				continue
			}
			t.closers = append(t.closers, d)
			t.checkDevice(d, name)
		}
	}
	for _, u := range t.units {
		if !u.used && !pvDevs[u.dev.Name()] {
			if _, err := ext.ReadSuperblock(u.dev, ext.PrimaryOffset); err == nil {
				t.checkDevice(u.dev, u.dev.Name())
			}
		}
	}
}

// checkDevice reports the filesystem on d, or on each partition of a table
// on d.
func (t *Triage) checkDevice(d blockdev.Device, name string) {
	if pt, err := blockdev.ReadPartitionTable(d); err == nil && len(pt.Partitions) > 0 {
		for _, p := range pt.Partitions {
			if p.Extended {
				continue
			}
			pd, err := blockdev.OpenPartition(d, p.Number)
			if err != nil {
				t.warn("%s: partition %d: %v", name, p.Number, err)
				continue
			}
			t.closers = append(t.closers, pd)
			t.checkExt(pd, fmt.Sprintf("%s:p%d", name, p.Number), ext.SuperblockAuto)
		}
		return
	}
	t.checkExt(d, name, ext.SuperblockAuto)
}

// checkExt opens the filesystem on d with the superblock choice given, and
// then every other filesystem whose superblock copies it met (an older
// filesystem that a new one was made over).
func (t *Triage) checkExt(d blockdev.Device, name string, choice int64) {
	fs, err := ext.Open(d, d.Size(), ext.Options{Superblock: choice})
	if err != nil {
		if choice == ext.SuperblockAuto {
			t.Result.Filesystems = append(t.Result.Filesystems, Filesystem{Dev: name, Type: "unknown", Note: err.Error()})
		}
		return
	}
	f := describe(fs, name)
	t.Result.Filesystems = append(t.Result.Filesystems, f)
	if m, ok := t.mainFS[name]; !ok || f.Files > m.files {
		cf := casefile.Filesystem{Dev: name, Type: f.Type, RootLost: !f.RootOK}
		if fs.SB.BlockGroupNr != 0 {
			cf.Superblock, cf.BlockSize = fs.SB.Offset/fs.BlockSize(), fs.BlockSize()
		}
		if !ok {
			t.fsOrder = append(t.fsOrder, name)
		}
		t.mainFS[name] = &mainFilesystem{files: f.Files, choice: choice, cf: cf}
	}
	if choice != ext.SuperblockAuto {
		return
	}
	for _, other := range fs.OtherFilesystems() {
		t.checkExt(d, name, other)
	}
}

// describe says which filesystem fs is, from which superblock, whether its
// root directory reads, and how many files can be reached (through lost
// directories too).
func describe(fs *ext.FS, name string) Filesystem {
	info := fs.Info(name)
	f := Filesystem{Dev: name, Type: fsType(info.Features), Label: info.Label, UUID: info.UUID, Superblock: "primary"}
	if info.Group != 0 {
		f.Superblock = fmt.Sprintf("backup at block %d", info.SuperblockOffset/int64(info.BlockSize))
	}
	root, err := fs.Inode(ext.RootIno)
	if err == nil {
		_, err = fs.ReadDir(root)
	}
	f.RootOK = err == nil
	found, err := fs.FindAll("", "*", !f.RootOK)
	if err != nil {
		f.Note = err.Error()
		return f
	}
	for _, m := range found.Matches {
		if m.Type == "file" || m.Type == "regular" {
			f.Files++
		}
	}
	if !f.RootOK {
		f.Files += int64(found.UnnamedFiles)
		f.Note = fmt.Sprintf("root directory lost; %d directories whose name is lost were walked and %d files no directory names were found (ext extract %s / OUT recovers them under #INODE)", len(found.LostDirs), found.UnnamedFiles, name)
	}
	return f
}

func fsType(features []string) string {
	switch {
	case slices.Contains(features, "extent") || slices.Contains(features, "flex_bg") || slices.Contains(features, "64bit"):
		return "ext4"
	case slices.Contains(features, "has_journal"):
		return "ext3"
	}
	return "ext2"
}

// Resolve opens the names triage established — a disk it was given, an
// array ("md1") or a logical volume of a chosen VG ("guests/home") — as
// blockdev.Open's resolver. Closing what it returns leaves triage's own
// devices open.
func (t *Triage) Resolve(name string) (blockdev.Device, error) {
	for _, d := range t.disks {
		if d.Name() == name {
			return blockdev.Borrowed(d), nil
		}
	}
	for _, a := range t.arrays {
		if a.res.Name == name && a.dev != nil {
			return blockdev.Borrowed(a.dev), nil
		}
	}
	if vgName, lv, ok := strings.Cut(name, "/"); ok {
		for _, g := range t.vgs {
			if g.vg.Name == vgName {
				return lvmmeta.OpenLV(g.vg, lv, g.pvs)
			}
		}
	}
	return nil, fmt.Errorf("%s: not a file, and not an array or VG/LV triage established", name)
}

// Claims: the disks triage was given are read as it opened them, not
// from files of the same name (a collect archive's disks may not exist here,
// or be other bytes).
func (t *Triage) Claims(name string) bool { return t.isDisk(name) }

// Disks are the devices triage was given and could open.
func (t *Triage) Disks() []blockdev.Device { return t.disks }

// OpenFile opens an image file as the command line's DEVs were opened
// (blockdev.FileOpener): with its ddrescue mapfile, if it has one.
func (t *Triage) OpenFile(path string) (blockdev.Device, error) {
	if t.files != nil {
		return t.files.OpenFile(path)
	}
	return blockdev.OpenFile(path)
}

// holdsData: lv is one a filesystem can be on. Hidden sub-LVs (a thin
// pool's data and metadata, raid images) are read through the LV they
// serve, and a thin pool itself is only the store of its thin LVs.
func holdsData(lv *lvmmeta.LV) bool {
	return lv.Visible && !slices.ContainsFunc(lv.Segments, func(s *lvmmeta.Segment) bool { return s.Type == "thin-pool" })
}
