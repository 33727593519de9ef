// Package mdraid reads Linux md RAID metadata and presents arrays virtually,
// read-only, as the kernel's md drivers would.
//
//   - Superblocks: the model shared by every metadata version
//     (superblock.go), the 0.90 and 1.x on-disk formats (superblock0.go,
//     superblock1.go), Examine, which finds them where mdadm puts them, and
//     their JSON form for reports (superblock_json.go).
//   - Geometry: levels, layouts, chunk and data offset as mdadm --create
//     takes them (geometry.go), and mdadm's size and --order conventions
//     (mdadm.go).
//   - Arrays: Open assembles members with a geometry into a blockdev.Device
//     (array.go), mapped per level: raid0, linear and raid1 (raid0.go),
//     raid10 (raid10.go), raid4/5/6 (raid5.go, with raid6's
//     field arithmetic in raid6gf.go). PlanFromSuperblocks chooses the
//     members and geometry the freshest superblocks agree on
//     (array_superblocks.go). MemberRuns inverts the mapping: what the
//     array keeps at a member's bytes (inverse.go).
//
// An array never closes its members: whoever opened them closes them.
package mdraid
