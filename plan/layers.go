package plan

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"holmes/casefile"
	"holmes/internal/shell"
	"holmes/lvmmeta"
)

// word is a device as the shell names it: a path (quoted as needed), or an
// expression of a variable an earlier step set ("${L0}p1"), known only when
// the plan runs.
type word struct {
	s   string
	lit bool
}

func lit(s string) word { return word{s, true} }

// arg is the word as one argument of a command.
func (w word) arg() string {
	if w.lit {
		return shell.Quote(w.s)
	}
	return `"` + w.s + `"`
}

// inDQ is the word inside a double-quoted string (dmsetup's table).
func (w word) inDQ() string {
	if !w.lit {
		return w.s
	}
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "$", `\$`, "`", "\\`").Replace(w.s)
}

// loop attaches dev (a word) to a new loop device, read-only unless
// writable, and returns the variable that holds its name.
func (b *builder) loop(prefix string, dev word, writable, partscan bool, start, length int64) string {
	v := b.newVar(prefix)
	cmd := v + "=$(losetup --find --show"
	writes := "nothing (attached read-only)"
	if !writable {
		cmd += " --read-only"
	} else {
		writes = "nothing (attached; what is written to it goes to " + dev.s + ", which is on overlays)"
	}
	if partscan {
		cmd += " --partscan"
	}
	if start > 0 {
		cmd += " --offset " + strconv.FormatInt(start, 10)
	}
	if length >= 0 {
		cmd += " --sizelimit " + strconv.FormatInt(length, 10)
	}
	b.step(cmd+" "+dev.arg()+")", writes, `losetup -d "$`+v+`"`)
	return v
}

// newVar names the next shell variable of a kind: L (loop devices of the
// disks and images), C (of the overlay files), P (of the layers' partitions).
func (b *builder) newVar(prefix string) string {
	n := b.vars[prefix]
	b.vars[prefix]++
	return prefix + strconv.Itoa(n)
}

// origin attaches a leaf read-only and returns the device its overlay
// reads: the disk itself, or a loop device over the image, its partition
// (the kernel's partition scan of the loop device) or byte range.
func (b *builder) origin(l *leaf) word {
	if l.part == 0 && l.ranged {
		return word{"$" + b.loop("L", lit(l.path), false, false, l.start, l.length), false}
	}
	if l.block && l.part == 0 {
		return lit(l.path)
	}
	v, ok := b.loops[l.path]
	if !ok {
		v = b.loop("L", lit(l.path), false, b.partitioned(l.path), 0, -1)
		b.loops[l.path] = v
	}
	if l.part == 0 {
		return word{"$" + v, false}
	}
	part := word{"${" + v + "}p" + strconv.Itoa(l.part), false}
	if !l.ranged {
		return part
	}
	return word{"$" + b.loop("L", part, false, false, l.start, l.length), false}
}

func (b *builder) partitioned(path string) bool {
	for _, l := range b.order {
		if l.path == path && l.part > 0 {
			return true
		}
	}
	return false
}

// overlay makes the copy-on-write overlay of a leaf: a sparse file as
// large as the leaf, on a loop device, as the exception store of a
// non-persistent device-mapper snapshot of it.
func (b *builder) overlay(l *leaf) {
	o := b.origin(l)
	cow := filepath.Join(b.opt.OverlayDir, strings.TrimPrefix(l.name, b.opt.Prefix)+".cow")
	b.step(fmt.Sprintf(`truncate -s "$(blockdev --getsize64 %s)" %s`, o.arg(), shell.Quote(cow)),
		"overlay "+cow+" (a sparse file as large as "+l.dev+")", "rm "+shell.Quote(cow))
	c := b.newVar("C")
	b.step(c+"=$(losetup --find --show "+shell.Quote(cow)+")", "nothing", `losetup -d "$`+c+`"`)
	b.step(fmt.Sprintf(`dmsetup create %s --table "0 $(blockdev --getsz %s) snapshot %s $%s N 8"`, l.name, o.arg(), o.inDQ(), c),
		"nothing (from here on, what is written to /dev/mapper/"+l.name+" lands in "+cow+")", "dmsetup remove "+l.name)
}

// device is the shell word for a DEV of the case: a leaf's overlay, an
// array or LV the plan built (built on demand), or a partition or range of
// one through a loop device. writable: a later step writes to it.
func (b *builder) device(dev string, writable bool) (word, error) {
	base, part, start, length, ranged, err := b.split(dev)
	if err != nil {
		return word{}, err
	}
	if !b.isLayer(base) {
		l := b.leaves[b.c.Path(base)+dev[len(base):]]
		if l == nil {
			return word{}, fmt.Errorf("plan: %s: not among the devices the case reads", dev)
		}
		return lit("/dev/mapper/" + l.name), nil
	}
	var top word
	if a := b.findArray(base); a != nil {
		d, err := b.array(a)
		if err != nil {
			return word{}, err
		}
		top = lit(d)
		if writable && !b.writable[a.Name] {
			b.writable[a.Name] = true
			b.step("mdadm --readwrite "+shell.Quote(d), "overlays only: the array's state in its md superblocks", "")
		}
	} else {
		vgName, lvName, _ := strings.Cut(base, "/")
		e := b.vgs[vgName]
		if err := b.volumeGroup(e); err != nil {
			return word{}, err
		}
		if e.vg.LV(lvName) == nil {
			return word{}, fmt.Errorf("plan: %s: volume group %s has no LV %s", dev, vgName, lvName)
		}
		top = lit("/dev/" + vgName + "/" + lvName)
	}
	if part == 0 {
		if !ranged {
			return top, nil
		}
		return word{"$" + b.loop("P", top, writable, false, start, length), false}, nil
	}
	v := b.loop("P", top, writable, true, 0, -1)
	w := word{"${" + v + "}p" + strconv.Itoa(part), false}
	if ranged {
		w = word{"$" + b.loop("P", w, writable, false, start, length), false}
	}
	return w, nil
}

var mdNumber = regexp.MustCompile(`^md[0-9]+$`)

// array re-creates an array of the case with mdadm over its members'
// overlays, in role order, "missing" for a member the case leaves out.
func (b *builder) array(a *casefile.Array) (string, error) {
	if d, ok := b.done[a.Name]; ok {
		return d, nil
	}
	if b.busy[a.Name] {
		return "", fmt.Errorf("plan: array %s is stacked on itself", a.Name)
	}
	if a.Name == "" || unsafeName.MatchString(a.Name) {
		return "", fmt.Errorf("plan: array name %q: use letters, digits and - _ . +", a.Name)
	}
	b.busy[a.Name] = true
	defer delete(b.busy, a.Name)
	dev := "/dev/md/" + a.Name
	if mdNumber.MatchString(a.Name) {
		dev = "/dev/" + a.Name
	}
	metadata, err := b.metadata(a)
	if err != nil {
		return "", err
	}
	var members []string
	for _, m := range a.Members {
		if m == nil || *m == "" {
			members = append(members, "missing")
			continue
		}
		w, err := b.device(*m, true)
		if err != nil {
			return "", fmt.Errorf("array %s: %w", a.Name, err)
		}
		members = append(members, w.arg())
	}
	b.step(createLine(dev, a, metadata, members), "overlays only: an md "+metadata+" superblock on each member", "mdadm --stop "+shell.Quote(dev))
	b.done[a.Name] = dev
	return dev, nil
}

// createLine is the mdadm --create line for array a over members (shell
// words in role order, "missing" for one left out): --assume-clean, no
// resync; --readonly, nothing written until asked; --run, no question for
// a degraded array or members that look used; --bitmap=none, no bitmap
// the original did not have. Sizes are in KiB, as mdadm takes them.
func createLine(dev string, a *casefile.Array, metadata string, members []string) string {
	args := []string{"mdadm", "--create", shell.Quote(dev), "--assume-clean", "--readonly", "--run",
		"--metadata=" + metadata, "--level=" + shell.Quote(a.Level)}
	if a.Layout != "" && a.Level != "raid0" && a.Level != "0" {
		args = append(args, "--layout="+shell.Quote(a.Layout))
	}
	if a.ChunkBytes > 0 && a.Level != "raid1" && a.Level != "1" && a.Level != "linear" {
		args = append(args, fmt.Sprintf("--chunk=%dK", a.ChunkBytes/1024))
	}
	args = append(args, fmt.Sprintf("--raid-devices=%d", len(members)))
	if metadata == "1.1" || metadata == "1.2" {
		args = append(args, fmt.Sprintf("--data-offset=%dK", a.DataOffset/1024))
	}
	if a.DataSize > 0 { // the array used less of each member than it could
		args = append(args, fmt.Sprintf("--size=%dK", a.DataSize/1024))
	}
	args = append(args, "--bitmap=none")
	return strings.Join(append(args, members...), " ")
}

// metadata is the md format to re-create an array with. Without one in the
// case file, a format that places the data where the geometry says is
// chosen, and the plan says so.
func (b *builder) metadata(a *casefile.Array) (string, error) {
	switch a.Metadata {
	case "0.90", "1.0":
		if a.DataOffset != 0 {
			return "", fmt.Errorf("plan: array %s: metadata %s keeps data at offset 0, the case file says %d", a.Name, a.Metadata, a.DataOffset)
		}
		return a.Metadata, nil
	case "1.1", "1.2":
		return a.Metadata, nil
	case "":
	default:
		return "", fmt.Errorf("plan: array %s: metadata %q: want 0.90, 1.0, 1.1 or 1.2", a.Name, a.Metadata)
	}
	m := "1.0" // superblock at the end: data at 0
	switch {
	case a.DataOffset >= 8192:
		m = "1.2"
	case a.DataOffset > 0:
		m = "1.1"
	}
	b.warn("array %s: the case file does not record its md metadata format; the plan uses %s, which puts the data where the geometry says (set \"metadata\" to the array's own format)", a.Name, m)
	return m, nil
}

// volumeGroup puts a VG's metadata back on its PVs (all on overlays) and
// activates it.
func (b *builder) volumeGroup(e *vgEntry) error {
	if e == nil {
		return fmt.Errorf("plan: no such volume group in the case file")
	}
	key := "vg:" + e.vg.Name
	if _, ok := b.done[key]; ok {
		return nil
	}
	if b.busy[key] {
		return fmt.Errorf("plan: volume group %s is stacked on itself", e.vg.Name)
	}
	b.busy[key] = true
	defer delete(b.busy, key)
	targets := map[string]lvmmeta.Target{}
	var words []string
	var pvWords []word
	for _, pv := range e.vg.PVs {
		if _, ok := e.g.PVs[pv.Name]; !ok {
			b.warn("%s: no device is given for %s; the plan uses the metadata's device hint %s, which may name another disk now", e.vg.Name, pv.Name, pv.Device)
		}
		w, err := b.device(b.pvDev(e, pv), true)
		if err != nil {
			return fmt.Errorf("volume group %s: %s: %w", e.vg.Name, pv.Name, err)
		}
		targets[pv.Name] = lvmmeta.Target{Path: w.arg(), Word: true, Size: -1, Overlay: true}
		words = append(words, w.arg())
		pvWords = append(pvWords, w)
	}
	mp := lvmmeta.MakePlan(e.vg, e.file, targets)
	for _, w := range mp.Warnings {
		b.warn("%s: %s", e.vg.Name, w)
	}
	// lvm sees only the plan's PVs: not the disks below the overlays, which
	// may carry the same PV label, nor an installer's VG of the same name.
	conf := b.newVar("LVM")
	b.step(conf+"="+lvmDevices(pvWords), "nothing (a shell variable: the devices lvm may see)", "")
	only := ` --config "$` + conf + `"`
	for i, c := range mp.Commands {
		cmd, rest, _ := strings.Cut(c, " ")
		c = cmd + only + " " + rest
		if i < len(words) {
			b.step("wipefs --all --types LVM2_member "+words[i],
				"overlays only: the LVM label at the start of "+words[i]+", if any (pvcreate fails on a stale label whose metadata area was overwritten)", "")
			b.step(c, "overlays only: a PV label and metadata area at the start of "+words[i], "")
			continue
		}
		b.step(c, "overlays only: the VG's metadata on its PVs (and lvm's own copy under /etc/lvm of the rescue system)", "")
	}
	b.step("vgchange"+only+" -ay "+shell.Quote(e.vg.Name), "nothing (device-mapper tables for the LVs)", "vgchange"+only+" -an "+shell.Quote(e.vg.Name))
	b.done[key] = ""
	return nil
}

// lvmDevices is lvm configuration, as one double-quoted shell word, that
// lets lvm see only the devices pvs: a filter accepting exactly them, and
// no devices file (whose entries name the disks, and which pvcreate would
// otherwise extend on the rescue system).
func lvmDevices(pvs []word) string {
	var accept []string
	for _, w := range pvs {
		re := w.s
		if w.lit { // lvm's names and the plan's hold only . and + of regexp's metacharacters
			re = strings.NewReplacer(".", "[.]", "+", "[+]").Replace(w.s)
		}
		accept = append(accept, `\"a|^`+(word{re, w.lit}).inDQ()+`\$|\"`)
	}
	return `"devices { use_devicesfile = 0 filter = [ ` + strings.Join(accept, ", ") + `, \"r|.*|\" ] }"`
}

// filesystem checks a filesystem read-only and mounts it read-only, from
// the superblock copy the case file names.
func (b *builder) filesystem(fs casefile.Filesystem) error {
	w, err := b.device(fs.Dev, false)
	if err != nil {
		return fmt.Errorf("filesystem %s: %w", fs.Dev, err)
	}
	check := "e2fsck -f -n"
	opts := "ro"
	if fs.Superblock > 0 {
		if fs.BlockSize < 1024 || fs.BlockSize%1024 != 0 {
			return fmt.Errorf("plan: filesystem %s: superblock %d needs its block_size (1024, 2048, 4096, ...)", fs.Dev, fs.Superblock)
		}
		check += fmt.Sprintf(" -b %d -B %d", fs.Superblock, fs.BlockSize)
		opts += fmt.Sprintf(",sb=%d", fs.Superblock*(fs.BlockSize/1024)) // mount counts in KiB
	}
	check += " " + w.arg()
	if fs.RootLost {
		check += " || echo " + shell.Quote(fs.Dev+": e2fsck -n reports damage, as expected: its root directory is lost") + " >&2"
		b.step(check, "nothing (-n: a check that changes nothing)", "")
		b.warn("%s: its root directory is lost, so the plan does not mount it; read what is reachable with holmes --case CASEFILE ext extract %s / DIR", fs.Dev, fs.Dev)
		return nil
	}
	b.step(check, "nothing (-n: a check that changes nothing)", "")
	mnt := filepath.Join(b.opt.MountDir, unsafeName.ReplaceAllString(strings.NewReplacer("/", "-", ":", "").Replace(fs.Dev), "-"))
	b.step("mkdir -p "+shell.Quote(mnt)+" && mount -o "+opts+" "+w.arg()+" "+shell.Quote(mnt),
		"nothing on the disks (the mount point; a journal that needs replaying is replayed into the overlays)", "umount "+shell.Quote(mnt))
	return nil
}
