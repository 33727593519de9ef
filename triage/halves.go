package triage

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"slices"

	"holmes/blockdev"
	"holmes/compare"
	"holmes/ext"
	"holmes/lvmmeta"
	"holmes/mdraid"
	"holmes/smart"
)

// scoreSMART scores the saved reports given for disks, and queries block
// devices without one when smartctl may be run.
func (t *Triage) scoreSMART(ctx context.Context, opt Options) {
	for _, d := range t.disks {
		var rep *smart.Report
		var err error
		kept, archived := opt.SMARTOutput[d.Name()]
		switch file, ok := opt.SMART[d.Name()]; {
		case ok:
			rep, err = smart.ReadFile(file)
		case archived && kept == nil:
			continue // an archive's disk: the drive here now is not the one it kept
		case archived:
			rep, err = smart.Parse(d.Name(), kept)
		case opt.Smartctl != "" && smart.IsDevice(d.Name()):
			rep, err = smart.QueryDevice(ctx, opt.Smartctl, d.Name())
		default:
			continue
		}
		if err != nil {
			t.warn("SMART of %s: %v", d.Name(), err)
			continue
		}
		res := smart.Score(rep)
		res.File = d.Name()
		t.smart[d.Name()] = res
		t.Result.SMART = append(t.Result.SMART, res)
	}
	for name := range opt.SMART {
		if _, ok := t.smart[name]; !ok && !t.isDisk(name) {
			t.warn("--smart %s: no such DEV among the devices", name)
		}
	}
}

func (t *Triage) isDisk(name string) bool {
	for _, d := range t.disks {
		if d.Name() == name {
			return true
		}
	}
	return false
}

// mirrorSets lists the roles that hold the same data: all of a raid1, each
// run of K consecutive roles of a raid10 nK. Other raid10 layouts keep
// their copies at other offsets; they are not compared as halves.
func mirrorSets(g mdraid.Geometry, n int) [][]int {
	switch g.Level {
	case "raid1":
		all := make([]int, n)
		for i := range all {
			all[i] = i
		}
		return [][]int{all}
	case "raid10":
		k, err := strconv.Atoi(strings.TrimPrefix(g.Layout, "n"))
		if !strings.HasPrefix(g.Layout, "n") || err != nil || k < 2 || n%k != 0 {
			return nil
		}
		var sets [][]int
		for i := 0; i < n; i += k {
			set := make([]int, k)
			for j := range set {
				set[j] = i + j
			}
			sets = append(sets, set)
		}
		return sets
	}
	return nil
}

// chooseHalves compares the copies of each mirror set and decides which to
// read where they differ: the one that received writes the other missed
// (newer LVM metadata, later ext superblock writes), then SMART. Members
// that differ from the trusted copy are left out of the assembly.
func (t *Triage) chooseHalves(a *array) {
	if a.res.Ambiguous {
		return
	}
	a.res.Trusted = slices.Clone(a.res.Members)
	sets := mirrorSets(a.geom, len(a.members))
	if len(sets) == 0 {
		return
	}
	length, err := memberDataLength(a)
	if err != nil {
		t.warn("%s: halves not compared: %v", a.res.Name, err)
		return
	}
	var pairs [][2]int // each copy against the first of its set
	for _, set := range sets {
		ref := -1
		for _, r := range set {
			if a.members[r] != nil {
				ref = r
				break
			}
		}
		for _, r := range set {
			if ref >= 0 && r != ref && a.members[r] != nil {
				pairs = append(pairs, [2]int{ref, r})
			}
		}
	}
	// The comparisons read whole disks: run them side by side, so that
	// pairs on different disks take the time of one, not of all.
	results := make([]*compare.Result, len(pairs))
	errs := make([]error, len(pairs))
	var wg sync.WaitGroup
	limit := make(chan struct{}, maxParallelCompares)
	for i, p := range pairs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			limit <- struct{}{}
			defer func() { <-limit }()
			results[i], errs[i] = compare.Ranges(a.members[p[0]].dev, a.members[p[1]].dev,
				compare.Options{StartA: a.geom.DataOffset, StartB: a.geom.DataOffset, Length: length})
		}()
	}
	wg.Wait()
	for i, p := range pairs {
		if errs[i] != nil {
			t.warn("%s: comparing %s and %s: %v", a.res.Name, a.members[p[0]].dev.Name(), a.members[p[1]].dev.Name(), errs[i])
			continue
		}
		t.compareHalves(a, p[0], p[1], results[i])
	}
}

// maxParallelCompares bounds the mirror comparisons reading at once.
const maxParallelCompares = 8

// compareHalves judges two copies by their comparison res and, where they
// differ, leaves the one not trusted out of the assembly.
func (t *Triage) compareHalves(a *array, ra, rb int, res *compare.Result) {
	ua, ub := a.members[ra], a.members[rb]
	h := Halves{Members: []string{ua.dev.Name(), ub.dev.Name()}, DiffBytes: res.DiffBytes, Uncompared: res.UnreadableBytes}
	if res.UnreadableBytes > 0 {
		h.Why = append(h.Why, fmt.Sprintf("%d of %d bytes could not be compared (%s): the halves are judged on the %d that could",
			res.UnreadableBytes, res.Compared, res.Unreadable[0].Why, res.Compared-res.UnreadableBytes))
	}
	if res.DiffBytes == 0 {
		h.Why = append(h.Why, "identical data areas")
		if res.UnreadableBytes > 0 {
			h.Why[len(h.Why)-1] = "identical where both could be read"
		}
		a.res.Halves = append(a.res.Halves, h)
		return
	}
	var regions []compare.Region
	for _, g := range res.Regions {
		if onlySuperblocks(ua, ub, g) {
			continue
		}
		regions = append(regions, g)
		a.res.Divergence = append(a.res.Divergence, Divergence{A: ua.dev.Name(), B: ub.dev.Name(), Start: g.Start, End: g.End})
	}
	if len(regions) == 0 {
		h.Why = append(h.Why, "they differ only where md superblocks sit (another array's metadata written over both): the data is the same")
		a.res.Halves = append(a.res.Halves, h)
		return
	}
	winner, why := newerHalf(ua.dev, ub.dev, res.Regions)
	sa, okA := t.smart[ua.disk]
	sb, okB := t.smart[ub.disk]
	if okA && okB {
		p := smart.Choose(sa, sb)
		switch {
		case winner >= 0 && p.Trust != nil && *p.Trust != []string{sa.File, sb.File}[winner]:
			why = append(why, "SMART prefers the other drive ("+p.Why+"), but it lacks writes the newer half has: image the newer half first")
		case winner < 0 && p.Trust != nil:
			winner = 0
			if *p.Trust == sb.File {
				winner = 1
			}
			why = append(why, "SMART: "+p.Why)
		}
	}
	if winner < 0 {
		winner = 0
		why = append(why, "nothing tells which half is newer; the first in role order is read (check the divergent regions)")
		t.warn("%s: %s and %s differ in %d bytes and nothing tells which is newer", a.res.Name, ua.dev.Name(), ub.dev.Name(), res.DiffBytes)
	}
	keep, drop := ra, rb
	if winner == 1 {
		keep, drop = rb, ra
	}
	h.Trust = a.members[keep].dev.Name()
	h.Why = append(h.Why, why...)
	a.res.Halves = append(a.res.Halves, h)
	a.res.Trusted[drop] = ""
}

// memberDataLength is how many bytes of each member's data area the array
// uses.
func memberDataLength(a *array) (int64, error) {
	devs := make([]blockdev.Device, len(a.members))
	for i, m := range a.members {
		if m != nil {
			devs[i] = m.dev
		}
	}
	arr, err := mdraid.Open(a.geom, devs, a.res.Name)
	if err != nil {
		return 0, err
	}
	defer arr.Close()
	n := int64(len(a.members))
	used := arr.Size()
	if a.geom.Level == "raid10" { // nK: each member holds K/n of the array
		used = arr.Size() * (n / int64(len(mirrorSets(a.geom, len(a.members))))) / n
	}
	// Past the end of the data the format allows is its superblock (and
	// whatever another array's left there), not data.
	for _, m := range a.members {
		if m != nil {
			used = min(used, mdraid.DataEnd(a.res.Metadata, m.dev.Size())-a.geom.DataOffset)
		}
	}
	return used, nil
}

// newerHalf reads the regions where two copies differ and looks for what
// tells which received the later writes: LVM metadata of the same VG with
// a higher seqno, an ext superblock of the same filesystem written later.
// It returns 0 or 1 for the newer copy, -1 when nothing tells, and why.
func newerHalf(a, b blockdev.Device, regions []compare.Region) (int, []string) {
	const margin, maxRead, maxRegions = 64 << 10, 4 << 20, 256
	votes := [2]int{}
	var why []string
	seen := map[string]bool{}
	for i, g := range regions {
		if i == maxRegions {
			break
		}
		start := max(0, g.Start-margin)
		end := min(a.Size(), b.Size(), g.End+margin, start+maxRead)
		bufs := [2][]byte{make([]byte, end-start), make([]byte, end-start)}
		if _, err := a.ReadAt(bufs[0], start); err != nil {
			continue
		}
		if _, err := b.ReadAt(bufs[1], start); err != nil {
			continue
		}
		for _, s := range seqnoVotes(bufs, start, g) {
			if !seen[s.why] {
				seen[s.why] = true
				votes[s.side]++
				why = append(why, s.why)
			}
		}
		for _, s := range append(superblockVotes(bufs, start, g), inodeVotes(bufs, start, g)...) {
			if !seen[s.why] {
				seen[s.why] = true
				votes[s.side]++
				why = append(why, s.why)
			}
		}
	}
	names := [2]string{a.Name(), b.Name()}
	switch {
	case votes[0] > votes[1]:
		return 0, append([]string{names[0] + " received writes " + names[1] + " missed"}, why...)
	case votes[1] > votes[0]:
		return 1, append([]string{names[1] + " received writes " + names[0] + " missed"}, why...)
	}
	return -1, why
}

type vote struct {
	side int
	why  string
}

// seqnoVotes carves LVM metadata from both copies of a region: the copy
// holding a higher seqno of the same VG saw the later change.
func seqnoVotes(bufs [2][]byte, start int64, g compare.Region) []vote {
	var newest [2]map[string]*lvmmeta.Carved
	for side, buf := range bufs {
		c := lvmmeta.NewCarver()
		if c.Scan(bytes.NewReader(buf), int64(len(buf)), "") != nil {
			return nil
		}
		newest[side] = map[string]*lvmmeta.Carved{}
		for _, cv := range c.Results() {
			if cur := newest[side][cv.VGUUID]; cv.Complete && (cur == nil || cv.Seqno > cur.Seqno) {
				newest[side][cv.VGUUID] = cv
			}
		}
	}
	var votes []vote
	for id, ca := range newest[0] {
		cb := newest[1][id]
		if cb == nil || ca.Seqno == cb.Seqno {
			continue
		}
		side := 0
		if cb.Seqno > ca.Seqno {
			side = 1
		}
		votes = append(votes, vote{side, fmt.Sprintf("LVM metadata of VG %s near %d: seqno %d against %d", ca.VG, g.Start, max(ca.Seqno, cb.Seqno), min(ca.Seqno, cb.Seqno))})
	}
	return votes
}

// superblockVotes compares ext superblocks of the same filesystem that sit
// in the region on both copies: the later write time is the newer copy.
func superblockVotes(bufs [2][]byte, start int64, g compare.Region) []vote {
	var votes []vote
	for off := int64(0); off+ext.SuperblockSize <= int64(len(bufs[0])); off += ext.SuperblockSize {
		if abs := start + off; abs+ext.SuperblockSize <= g.Start || abs >= g.End {
			continue
		}
		sa, errA := ext.ReadSuperblock(bytes.NewReader(bufs[0]), off)
		sb, errB := ext.ReadSuperblock(bytes.NewReader(bufs[1]), off)
		if errA != nil || errB != nil || sa.UUID != sb.UUID || sa.WriteTime.Equal(sb.WriteTime) {
			continue
		}
		side, newer, older := 0, sa.WriteTime, sb.WriteTime
		if sb.WriteTime.After(sa.WriteTime) {
			side, newer, older = 1, sb.WriteTime, sa.WriteTime
		}
		votes = append(votes, vote{side, fmt.Sprintf("ext superblock of %s (label %q) at %d: written %s against %s",
			uuidString(sa.UUID), sa.VolumeName, start+off, newer.UTC().Format(time.RFC3339), older.UTC().Format(time.RFC3339))})
	}
	return votes
}

// inodeVotes reads the differing 128-byte records of a region as ext
// inodes (the times sit in the first 128 bytes whatever the inode size):
// where both copies hold an inode of a valid type, the copy with the later
// change or modification time saw the later write.
func inodeVotes(bufs [2][]byte, start int64, g compare.Region) []vote {
	const rec = 128
	var latest [2]uint32
	var at int64
	for off := (g.Start - start) &^ (rec - 1); off+rec <= int64(len(bufs[0])) && start+off < g.End; off += rec {
		a, b := bufs[0][off:off+rec], bufs[1][off:off+rec]
		if bytes.Equal(a, b) || !looksLikeInode(a) || !looksLikeInode(b) {
			continue
		}
		ta, tb := inodeTime(a), inodeTime(b)
		if ta != tb && max(ta, tb) > max(latest[0], latest[1]) {
			at = start + off
		}
		latest[0], latest[1] = max(latest[0], ta), max(latest[1], tb)
	}
	if latest[0] == latest[1] {
		return nil
	}
	side := 0
	if latest[1] > latest[0] {
		side = 1
	}
	t := func(s uint32) string { return time.Unix(int64(s), 0).UTC().Format(time.RFC3339) }
	return []vote{{side, fmt.Sprintf("inodes near %d: changed %s against %s", at, t(max(latest[0], latest[1])), t(min(latest[0], latest[1])))}}
}

// looksLikeInode: i_mode has a file type and i_links_count is plausible.
func looksLikeInode(b []byte) bool {
	mode := binary.LittleEndian.Uint16(b[0:])
	links := binary.LittleEndian.Uint16(b[26:])
	switch mode & 0xF000 {
	case 0x1000, 0x2000, 0x4000, 0x6000, 0x8000, 0xA000, 0xC000:
		return links > 0 && links < 65000
	}
	return false
}

// inodeTime is the later of an inode's ctime and mtime.
func inodeTime(b []byte) uint32 {
	return max(binary.LittleEndian.Uint32(b[12:]), binary.LittleEndian.Uint32(b[16:]))
}

// onlySuperblocks: the copies differ in region g only inside the md
// superblocks found on them (another array's metadata, written over both
// copies with each member's own role and checksum): the data is the same.
func onlySuperblocks(ua, ub *unit, g compare.Region) bool {
	const sbBytes = 1024 // a superblock with its role table; the rest of its 4 KiB is unused
	if g.End-g.Start > 1<<20 {
		return false
	}
	bufs := [2][]byte{make([]byte, g.End-g.Start), make([]byte, g.End-g.Start)}
	for i, u := range []*unit{ua, ub} {
		if _, err := u.dev.ReadAt(bufs[i], g.Start); err != nil {
			return false
		}
	}
	masked := false
	for _, u := range []*unit{ua, ub} {
		for _, sb := range u.sbs {
			lo, hi := max(sb.Offset, g.Start), min(sb.Offset+sbBytes, g.End)
			if lo < hi {
				masked = true
				clear(bufs[0][lo-g.Start : hi-g.Start])
				clear(bufs[1][lo-g.Start : hi-g.Start])
			}
		}
	}
	return masked && bytes.Equal(bufs[0], bufs[1])
}
