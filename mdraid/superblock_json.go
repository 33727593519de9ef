package mdraid

import (
	"encoding/json"
	"strconv"
	"time"
)

// RoleName is the role as reports show it: the slot number, or "spare",
// "faulty", "journal".
func RoleName(role int) string {
	switch role {
	case RoleSpare:
		return "spare"
	case RoleFaulty:
		return "faulty"
	case RoleJournal:
		return "journal"
	}
	return strconv.Itoa(role)
}

// superblockJSON is the JSON form of a superblock (docs/cli.md, md examine):
// the contract's fields first, then extra facts.
type superblockJSON struct {
	Version          string       `json:"version"`
	Offset           int64        `json:"offset"`
	ArrayUUID        string       `json:"array_uuid"`
	DeviceUUID       string       `json:"device_uuid"`
	Name             string       `json:"name"`
	Level            string       `json:"level"`
	Layout           string       `json:"layout"`
	ChunkBytes       int64        `json:"chunk_bytes"`
	RaidDisks        int          `json:"raid_disks"`
	Role             any          `json:"role"`
	Events           uint64       `json:"events"`
	DataOffset       int64        `json:"data_offset"`
	DataSize         int64        `json:"data_size"`
	CTime            string       `json:"ctime"`
	UTime            string       `json:"utime"`
	ArrayState       string       `json:"array_state"`
	ChecksumOK       bool         `json:"checksum_ok"`
	ByteOrder        string       `json:"byte_order"`
	LevelCode        int32        `json:"level_code"`
	LayoutCode       uint32       `json:"layout_code"`
	UsedSize         int64        `json:"used_size"`
	ArraySize        int64        `json:"array_size,omitempty"`
	SuperOffset      int64        `json:"super_offset"`
	DeviceNumber     int          `json:"device_number"`
	PreferredMinor   *int         `json:"preferred_minor,omitempty"`
	State            string       `json:"state"`
	Checksum         string       `json:"checksum"`
	ExpectedChecksum string       `json:"expected_checksum"`
	FeatureMap       uint32       `json:"feature_map"`
	Bitmap           *bitmapJSON  `json:"bitmap,omitempty"`
	BadBlockLog      *regionJSON  `json:"bad_block_log,omitempty"`
	Reshape          *reshapeJSON `json:"reshape,omitempty"`
	Roles            []any        `json:"roles"`
	Problems         []string     `json:"problems,omitempty"`
}

type bitmapJSON struct {
	Offset     int64  `json:"offset"`
	Size       int64  `json:"size"`
	ChunkBytes int64  `json:"chunk_bytes"`
	Events     uint64 `json:"events"`
	HeaderOK   bool   `json:"header_ok"`
}

type regionJSON struct {
	Offset int64 `json:"offset"`
	Size   int64 `json:"size"`
}

type reshapeJSON struct {
	Position   int64  `json:"position"`
	NewLevel   string `json:"new_level"`
	NewLayout  string `json:"new_layout"`
	NewChunk   int64  `json:"new_chunk_bytes"`
	DeltaDisks int    `json:"delta_disks"`
}

// roleJSON is an integer slot or a word, as docs/cli.md asks.
func roleJSON(role int) any {
	if role >= 0 {
		return role
	}
	return RoleName(role)
}

func timeJSON(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// MarshalJSON writes the superblock in the form docs/cli.md gives for
// `holmes md examine --json`, so every command reports superblocks alike.
func (sb *Superblock) MarshalJSON() ([]byte, error) {
	j := superblockJSON{
		Version: sb.Version, Offset: sb.Offset, ArrayUUID: sb.ArrayUUID, DeviceUUID: sb.DeviceUUID,
		Name: sb.Name, Level: sb.Level, Layout: sb.Layout, ChunkBytes: sb.ChunkBytes,
		RaidDisks: sb.RaidDisks, Role: roleJSON(sb.Role), Events: sb.Events,
		DataOffset: sb.DataOffset, DataSize: sb.DataSize,
		CTime: timeJSON(sb.CTime), UTime: timeJSON(sb.UTime),
		ArrayState: sb.ArrayState, ChecksumOK: sb.ChecksumOK, ByteOrder: sb.ByteOrder,
		LevelCode: sb.LevelCode, LayoutCode: sb.LayoutCode, UsedSize: sb.UsedSize,
		ArraySize: sb.ArraySize, SuperOffset: sb.SuperOffset, DeviceNumber: sb.DeviceNumber,
		State: sb.State, Checksum: hex32(sb.Checksum), ExpectedChecksum: hex32(sb.ExpectedChecksum),
		FeatureMap: sb.FeatureMap, Problems: sb.Problems,
	}
	if sb.Version[0] == '0' {
		minor := sb.PreferredMinor
		j.PreferredMinor = &minor
	}
	// The role table is mostly unused slots: stop after the last one in use.
	used := len(sb.Roles)
	for used > 0 && sb.Roles[used-1] == RoleSpare {
		used--
	}
	j.Roles = make([]any, used)
	for i, r := range sb.Roles[:used] {
		j.Roles[i] = roleJSON(r)
	}
	if b := sb.Bitmap; b != nil {
		j.Bitmap = &bitmapJSON{b.Offset, b.Size, b.ChunkBytes, b.Events, b.HeaderOK}
	}
	if b := sb.BadBlockLog; b != nil {
		j.BadBlockLog = &regionJSON{b.Offset, b.Size}
	}
	if r := sb.Reshape; r != nil {
		j.Reshape = &reshapeJSON{r.Position, r.NewLevel, r.NewLayout, r.NewChunk, r.DeltaDisks}
	}
	return json.Marshal(j)
}

func hex32(v uint32) string { return strconv.FormatUint(uint64(v), 16) }
