package triage

import (
	"fmt"
	"slices"
	"strings"

	"holmes/blockdev"
	"holmes/ext"
	"holmes/lvmmeta"
	"holmes/mdraid"
	"holmes/mdsolve"
)

// findArrays groups the units into arrays — by the md superblocks they
// carry, and by size where none is left — and decides each array's geometry:
// from the superblocks when the data agrees with them, from md solve when it
// does not (an installer's new array over old data), or not at all when the
// evidence does not decide (docs/triage.md).
func (t *Triage) findArrays(opt mdsolve.Options) {
	for _, g := range t.groups() {
		if len(g.units) < 2 {
			continue
		}
		a := t.decide(g, opt)
		if a == nil {
			continue
		}
		fillDataSize(a)
		a.res.Name = fmt.Sprintf("md%d", len(t.arrays))
		t.arrays = append(t.arrays, a)
		for _, u := range g.units {
			u.used = true
		}
	}
}

// group is units that look like members of one array.
type group struct {
	uuid  string // the superblocks' array, "" for a group by size
	units []*unit
}

func (t *Triage) groups() []group {
	var gs []group
	byUUID := map[string]int{}
	var bare []*unit
	for _, u := range t.units {
		sb := mdraid.Freshest(u.sbs)
		if sb == nil || !sb.ChecksumOK || len(sb.Problems) > 0 {
			bare = append(bare, u)
			continue
		}
		i, ok := byUUID[sb.ArrayUUID]
		if !ok {
			i = len(gs)
			byUUID[sb.ArrayUUID] = i
			gs = append(gs, group{uuid: sb.ArrayUUID})
		}
		gs[i].units = append(gs[i].units, u)
	}
	// Units without superblocks: those of one size on different disks are
	// the likely members of one array whose superblocks are gone. But
	// where several units carry PV labels of different PVs, each is a PV
	// of its own: mirror halves carry the same label, and a striped or
	// parity array carries one only on the member holding its start.
	labels := map[string]int{}
	pvOf := map[*unit]string{}
	for _, u := range bare {
		if l, err := lvmmeta.ReadLabel(u.dev, u.dev.Size()); err == nil {
			pvOf[u], labels[l.PVUUID] = l.PVUUID, labels[l.PVUUID]+1
		}
	}
	bySize := map[int64]int{}
	for _, u := range bare {
		if id, ok := pvOf[u]; ok && labels[id] == 1 && len(pvOf) > 1 {
			continue
		}
		i, ok := bySize[u.dev.Size()]
		if !ok {
			i = len(gs)
			bySize[u.dev.Size()] = i
			gs = append(gs, group{})
		}
		gs[i].units = append(gs[i].units, u)
	}
	return gs
}

// decide settles one group's geometry and role order.
func (t *Triage) decide(g group, opt mdsolve.Options) *array {
	devs := make([]blockdev.Device, len(g.units))
	for i, u := range g.units {
		devs[i] = u.dev
	}
	var plan *mdraid.Plan
	if g.uuid != "" {
		p, err := mdraid.PlanFromSuperblocks(devs, g.uuid)
		if err == nil {
			plan = p
		}
	}
	r, err := mdsolve.Solve(devs, opt)
	if err != nil {
		if plan == nil {
			t.warn("%s: no array: %v", strings.Join(unitNames(g.units), " "), err)
			return nil
		}
		return t.fromSuperblocks(g, plan, []string{"md solve could not read the data: " + err.Error()})
	}
	if gap := lacking(g.units); plan != nil && (r.Ambiguous || r.Subset) && gap != "" {
		// What would confirm or refute the superblocks is not in the
		// evidence (a collect archive keeps metadata, not data): they
		// decide, as mdadm --assemble would, and the report says so.
		why := "md solve could not decide: the members' data is not all in the evidence (" + gap + "); the superblocks of array " + g.uuid + " decide"
		return t.fromSuperblocks(g, plan, append([]string{why}, r.Evidence...))
	}
	if plan != nil && r.Ambiguous && settlesTie(plan, r) && len(leftBelow(plan, g.units)) == 0 {
		why := "md solve left the member order open; the superblocks of array " + g.uuid + " settle it, and every candidate has their data offset"
		return t.fromSuperblocks(g, plan, append([]string{why}, r.Evidence...))
	}
	a := &array{geom: r.Geometry(), res: &Array{
		Level: r.Level, Layout: r.Layout, ChunkBytes: r.ChunkBytes, DataOffset: r.DataOffset,
		DataSize: r.DataSize, Metadata: r.Metadata, Source: "solved", Confidence: r.Confidence,
		Evidence: append(slices.Clone(r.Evidence), r.Superblocks...),
	}}
	for _, name := range r.Order {
		a.members = append(a.members, t.unitByName(name))
	}
	if len(a.members) == 0 { // undecided: the members as found
		a.members = g.units
	}
	a.geom.RaidDisks = len(a.members)
	a.res.Members = unitNames(a.members)
	if plan != nil && !agrees(plan, r, g.units) {
		a.foreign, a.foreignUnits = plan, g.units
	}
	if plan != nil && agrees(plan, r, g.units) {
		// The superblocks describe the array the data shows; solve adds
		// what they may not (the format the data's size fits, --size).
		a.res.Evidence = append([]string{"the data agrees with the md superblocks of array " + g.uuid}, a.res.Evidence...)
		if r.Metadata == plan.Metadata {
			a.res.Source, a.res.Confidence = "superblocks", 1
		}
	}
	if r.Ambiguous || r.Subset {
		a.res.Ambiguous = true
		a.res.Why = r.Why
		if r.Subset && len(a.res.Why) == 0 {
			a.res.Why = []string{"the members look like part of a larger array"}
		}
		a.res.WouldDecide = r.WouldDecide
		for _, c := range r.Candidates {
			a.res.Candidates = append(a.res.Candidates, Candidate(c))
		}
	}
	return a
}

// lacking says why some member lacks bytes ("not collected", "not finished
// in ddrescue mapfile ..."), or "" when every member is whole.
func lacking(units []*unit) string {
	for _, u := range units {
		for _, h := range blockdev.HolesOf(u.dev) {
			_, err := u.dev.ReadAt(make([]byte, 1), h.Off)
			if g, ok := blockdev.AsUnreadable(err); ok {
				return g.Why
			}
		}
	}
	return ""
}

// leftBelow lists the PV labels and ext superblocks found on members in the
// space before the superblocks' data offset, which md keeps for itself: data
// of an older layout, so the superblocks may belong to an array made over it.
func leftBelow(p *mdraid.Plan, units []*unit) []string {
	var found []string
	if p.Geometry.DataOffset < 4096 {
		return nil
	}
	for _, u := range units {
		if l, err := lvmmeta.ReadLabel(u.dev, min(u.dev.Size(), p.Geometry.DataOffset)); err == nil {
			found = append(found, fmt.Sprintf("LVM PV label %s at the start of %s, below the data offset %d", l.PVUUID, u.dev.Name(), p.Geometry.DataOffset))
		}
		if _, err := ext.ReadSuperblock(u.dev, ext.PrimaryOffset); err == nil {
			found = append(found, fmt.Sprintf("an ext superblock at 1024 of %s, below the data offset %d", u.dev.Name(), p.Geometry.DataOffset))
		}
	}
	return found
}

// agrees: md solve found the superblocks' own geometry and order.
func agrees(p *mdraid.Plan, r *mdsolve.Result, units []*unit) bool {
	if r.Ambiguous || !sameGeometry(p.Geometry, r.Geometry()) {
		return false
	}
	if p.Geometry.Level == "raid1" {
		return true // the order of mirrors does not matter
	}
	for role, i := range p.Roles {
		if i < 0 || role >= len(r.Order) || r.Order[role] != units[i].dev.Name() {
			return false
		}
	}
	return true
}

// settlesTie: solve could not order the members, but every candidate it
// kept has the superblocks' level and data offset, so the superblocks'
// roles break the tie without contradicting the data.
func settlesTie(p *mdraid.Plan, r *mdsolve.Result) bool {
	if len(r.Candidates) == 0 {
		return false
	}
	for _, c := range r.Candidates {
		if c.Level != p.Geometry.Level || c.DataOffset != p.Geometry.DataOffset {
			return false
		}
	}
	return true
}

func sameGeometry(a, b mdraid.Geometry) bool {
	a.DataSize, b.DataSize = 0, 0
	na, errA := a.Normalize()
	nb, errB := b.Normalize()
	if errA != nil || errB != nil {
		return false
	}
	if na.Level == "raid1" {
		na.ChunkBytes, nb.ChunkBytes = 0, 0
	}
	return na == nb
}

// fromSuperblocks makes the array the superblocks describe.
func (t *Triage) fromSuperblocks(g group, p *mdraid.Plan, evidence []string) *array {
	a := &array{geom: p.Geometry, res: &Array{
		Level: p.Geometry.Level, Layout: p.Geometry.Layout, ChunkBytes: p.Geometry.ChunkBytes,
		DataOffset: p.Geometry.DataOffset, DataSize: p.Geometry.DataSize, Metadata: p.Metadata,
		Source: "superblocks", Confidence: 1, Evidence: append(evidence, p.Warnings...),
	}}
	for _, i := range p.Roles {
		if i < 0 {
			a.members = append(a.members, nil)
			continue
		}
		a.members = append(a.members, g.units[i])
	}
	a.res.Members = unitNames(a.members)
	return a
}

// fillDataSize sets how much of each member the array uses when the format
// keeps its superblock at the end (0.90, 1.0) and nothing said it: the
// space before that superblock, whole chunks only, as mdadm sizes it.
// Without it the array would read the superblock's area as data.
func fillDataSize(a *array) {
	if a.geom.DataSize != 0 || a.res.Metadata != "0.90" && a.res.Metadata != "1.0" || a.res.Ambiguous {
		return
	}
	size := int64(-1)
	for _, m := range a.members {
		if m != nil && (size < 0 || m.dev.Size() < size) {
			size = m.dev.Size()
		}
	}
	used := mdraid.DataEnd(a.res.Metadata, size) - a.geom.DataOffset
	if a.geom.ChunkBytes > 0 {
		used -= used % a.geom.ChunkBytes
	}
	if size < 0 || used <= 0 {
		return
	}
	a.geom.DataSize, a.res.DataSize = used, used
}
