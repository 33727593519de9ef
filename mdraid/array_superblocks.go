package mdraid

import (
	"fmt"
	"sort"
	"time"

	"holmes/blockdev"
)

// Candidate is one device's claim to membership, from its superblock.
type Candidate struct {
	Device     string    `json:"device"`
	Superblock string    `json:"superblock"` // version@offset, or "" when none was found
	ArrayUUID  string    `json:"array_uuid,omitempty"`
	Role       *int      `json:"role,omitempty"`
	Events     uint64    `json:"events"`
	UTime      time.Time `json:"utime"`
	ChecksumOK bool      `json:"checksum_ok"`
	// Status: "member" (used in the assembly), "stale" (an older copy of a
	// member: fewer events), "spare", "foreign" (another array), "bad" (checksum
	// or decoding problems), "none" (no superblock).
	Status string `json:"status"`
	Why    string `json:"why,omitempty"`

	sb *Superblock
}

// Plan is an assembly decided from superblocks: the freshest view of the
// array, which device fills each role, and every disagreement found.
type Plan struct {
	Geometry  Geometry
	ArrayUUID string
	Name      string
	Metadata  string
	// Roles maps each role to the index of its device in the list given to
	// PlanFromSuperblocks; -1 = missing.
	Roles      []int
	Candidates []Candidate
	Warnings   []string
}

// PlanFromSuperblocks examines every device and plans the assembly of the
// array they mostly belong to (or of arrayUUID, when given). Superblocks are
// compared, not trusted: a device whose superblock has fewer events than the
// freshest one, another array's UUID, or a bad checksum is reported and left
// out, and the freshest superblock decides the geometry.
func PlanFromSuperblocks(devs []blockdev.Device, arrayUUID string) (*Plan, error) {
	p := &Plan{Candidates: make([]Candidate, len(devs))}
	count := map[string]int{}
	for i, d := range devs {
		c := &p.Candidates[i]
		c.Device = d.Name()
		sbs, err := Examine(d, d.Size())
		if err != nil {
			return nil, fmt.Errorf("%s: %w", d.Name(), err)
		}
		if len(sbs) == 0 {
			c.Status, c.Why = "none", "no md superblock"
			continue
		}
		sb := Freshest(sbs)
		c.sb = sb
		c.Superblock = fmt.Sprintf("%s@%d", sb.Version, sb.Offset)
		c.ArrayUUID, c.Events, c.UTime, c.ChecksumOK = sb.ArrayUUID, sb.Events, sb.UTime, sb.ChecksumOK
		if sb.Role >= 0 {
			role := sb.Role
			c.Role = &role
		}
		if len(sbs) > 1 {
			p.Warnings = append(p.Warnings, fmt.Sprintf("%s: %d superblocks; using %s (the freshest)", d.Name(), len(sbs), c.Superblock))
		}
		if !sb.ChecksumOK || len(sb.Problems) > 0 {
			c.Status, c.Why = "bad", badWhy(sb)
			continue
		}
		count[sb.ArrayUUID]++
	}
	if arrayUUID == "" {
		arrayUUID = mostCommon(count)
	}
	if count[arrayUUID] == 0 {
		if arrayUUID == "" {
			return nil, fmt.Errorf("no device carries a valid md superblock; give the geometry with --level, --chunk, --layout, --data-offset (or try holmes md solve)")
		}
		return nil, fmt.Errorf("no device carries a valid superblock of array %s", arrayUUID)
	}
	p.ArrayUUID = arrayUUID
	if len(count) > 1 {
		p.Warnings = append(p.Warnings, fmt.Sprintf("devices carry superblocks of %d arrays; assembling %s", len(count), arrayUUID))
	}

	// The freshest superblock of the array speaks for it.
	var lead *Superblock
	for i := range p.Candidates {
		c := &p.Candidates[i]
		if c.Status == "" && c.ArrayUUID != arrayUUID {
			c.Status, c.Why = "foreign", "superblock of array "+c.ArrayUUID
		}
		if c.Status == "" && (lead == nil || newer(c.sb, lead)) {
			lead = c.sb
		}
	}
	p.Name, p.Metadata = lead.Name, lead.Version
	p.Geometry = Geometry{Level: lead.Level, Layout: lead.Layout, ChunkBytes: lead.ChunkBytes,
		RaidDisks: lead.RaidDisks, DataOffset: lead.DataOffset, DataSize: lead.UsedSize}
	if lead.Level == "raid10" {
		p.Geometry.Layout = fmt.Sprint(lead.LayoutCode) // keeps far-set bits that names lose
	}
	if lead.Level == "raid0" || lead.Level == "linear" || p.Geometry.DataSize == 0 {
		p.Geometry.DataSize = 0 // each member contributes its own data size
	}
	g, err := p.Geometry.Normalize()
	if err != nil {
		return nil, fmt.Errorf("superblock of %s: %w", arrayUUID, err)
	}
	p.Geometry = g

	p.Roles = make([]int, g.RaidDisks)
	for r := range p.Roles {
		p.Roles[r] = -1
	}
	for i := range p.Candidates {
		c := &p.Candidates[i]
		if c.Status != "" {
			continue
		}
		switch {
		case c.Role == nil:
			// md does not bump a spare's events on every clean/dirty flip.
			c.Status = "spare"
		case c.sb.Events < lead.Events:
			c.Status = "stale"
			c.Why = fmt.Sprintf("events %d < %d on the freshest superblock (utime %s vs %s)", c.sb.Events, lead.Events,
				c.sb.UTime.Format(time.RFC3339), lead.UTime.Format(time.RFC3339))
		case *c.Role >= g.RaidDisks:
			c.Status, c.Why = "bad", fmt.Sprintf("role %d but the array has %d raid disks", *c.Role, g.RaidDisks)
		case p.Roles[*c.Role] >= 0:
			c.Status, c.Why = "stale", fmt.Sprintf("role %d is already filled by %s", *c.Role, p.Candidates[p.Roles[*c.Role]].Device)
		default:
			c.Status = "member"
			p.Roles[*c.Role] = i
		}
		if c.Status == "member" && c.sb.DataOffset != lead.DataOffset {
			p.Warnings = append(p.Warnings, fmt.Sprintf("%s: data offset %d differs from %d on the freshest superblock", c.Device, c.sb.DataOffset, lead.DataOffset))
		}
	}
	for r, i := range p.Roles {
		if i < 0 {
			p.Warnings = append(p.Warnings, fmt.Sprintf("role %d: no current member", r))
		}
	}
	return p, nil
}

// Open assembles the planned array over the devices the plan was made from,
// each member cut at its own superblock's data offset. Closing the array
// closes the member devices (not the others).
func (p *Plan) Open(devs []blockdev.Device, name string) (*Array, error) {
	areas := make([]blockdev.Device, len(p.Roles))
	for r, i := range p.Roles {
		if i < 0 {
			continue
		}
		sb := p.Candidates[i].sb
		size := p.Geometry.DataSize
		if size == 0 {
			size = sb.DataSize
		}
		area, err := blockdev.Slice(devs[i], sb.DataOffset, size, devs[i].Name())
		if err != nil {
			return nil, fmt.Errorf("%s: role %d: data area from superblock %s: %w", name, r, p.Candidates[i].Superblock, err)
		}
		areas[r] = area
	}
	return openAreas(p.Geometry, areas, name)
}

// Freshest picks, among the superblocks found on one device, the one that
// describes it now (nil when there are none). A superblock whose checksum
// holds beats one whose checksum fails; within one array the most events
// win, then the latest update; between arrays (a stale superblock of an
// earlier array left at the other end) event counts are unrelated and the
// latest update wins.
func Freshest(sbs []*Superblock) *Superblock {
	var best *Superblock
	for _, sb := range sbs {
		if best == nil || fresher(sb, best) {
			best = sb
		}
	}
	return best
}

func fresher(a, b *Superblock) bool {
	switch {
	case a.ChecksumOK != b.ChecksumOK:
		return a.ChecksumOK
	case a.ArrayUUID != b.ArrayUUID:
		return a.UTime.After(b.UTime)
	}
	return newer(a, b)
}

// newer compares two superblocks of one array: most events, then latest update.
func newer(a, b *Superblock) bool {
	if a.Events != b.Events {
		return a.Events > b.Events
	}
	return a.UTime.After(b.UTime)
}

func badWhy(sb *Superblock) string {
	if !sb.ChecksumOK {
		return fmt.Sprintf("bad checksum %#08x (expected %#08x)", sb.Checksum, sb.ExpectedChecksum)
	}
	return sb.Problems[0]
}

// mostCommon returns the key with the highest count (ties: the smallest key,
// so the choice does not depend on map order).
func mostCommon(count map[string]int) string {
	keys := make([]string, 0, len(count))
	for k := range count {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	best := ""
	for _, k := range keys {
		if best == "" || count[k] > count[best] {
			best = k
		}
	}
	return best
}
