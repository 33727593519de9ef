package mdsolve

import (
	"fmt"
	"strings"

	"holmes/internal/shell"
	"holmes/mdraid"
)

// MdadmCreate is the mdadm command that re-creates geometry g over members
// (role order, "missing" for a lost one) without touching the data:
// --assume-clean skips the resync, --readonly keeps the kernel from writing.
func MdadmCreate(dev string, g mdraid.Geometry, metadata string, members []string) string {
	args := []string{"mdadm", "--create", dev, "--assume-clean", "--readonly",
		"--level=" + g.Level, fmt.Sprintf("--raid-devices=%d", len(members)), "--metadata=" + metadata}
	if g.ChunkBytes > 0 && g.Level != "raid1" && g.Level != "linear" {
		args = append(args, fmt.Sprintf("--chunk=%dK", g.ChunkBytes/1024))
	}
	if g.Layout != "" && g.Level != "raid0" {
		args = append(args, "--layout="+g.Layout)
	}
	if metadata != "0.90" && metadata != "1.0" {
		args = append(args, fmt.Sprintf("--data-offset=%dK", g.DataOffset/1024))
	}
	for _, m := range members {
		args = append(args, shell.Quote(m))
	}
	return strings.Join(args, " ")
}
