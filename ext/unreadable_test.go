package ext

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"holmes/blockdev"
	"holmes/internal/fixture"
)

// TestExtractGoesOnPastUnreadableRanges cuts three gaps into a real ext4
// image (mke2fs and debugfs made it), as a ddrescue mapfile would leave
// them: 700 bytes of /big's data, the inode of /dir/small, and a block of
// the directory /many. Extracting / writes everything else exactly as from
// the whole image; /big is written with the 700 bytes left a hole and
// listed as damaged with that range in its own offsets; the inode and the
// directory block are reported with what they cost.
func TestExtractGoesOnPastUnreadableRanges(t *testing.T) {
	img := fixture.SmallExt(t, "ext4")
	whole, err := blockdev.OpenFile(img)
	if err != nil {
		t.Fatal(err)
	}
	defer whole.Close()
	fs, err := Open(whole, whole.Size(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	big, err := fs.Lookup("/big")
	if err != nil {
		t.Fatal(err)
	}
	r, err := fs.Reader(big)
	if err != nil {
		t.Fatal(err)
	}
	const lostStart, lostEnd = 4196, 4896 // inside one block of /big
	bigAt, ok := r.deviceOffset(lostStart)
	if !ok {
		t.Fatal("/big has no data at 4196")
	}
	small, err := fs.Lookup("/dir/small")
	if err != nil {
		t.Fatal(err)
	}
	smallAt, err := fs.inodeLocation(small.Num)
	if err != nil {
		t.Fatal(err)
	}
	many, err := fs.Lookup("/many")
	if err != nil {
		t.Fatal(err)
	}
	m, err := fs.Map(many)
	if err != nil || len(m.Runs) == 0 || m.Runs[0].Len < 2 {
		t.Fatalf("/many's block map %+v, %v: want two blocks or more", m, err)
	}
	// The block of /many holding the most names (an htree's root holds none).
	var dirBlockAt int64
	most := 0
	for b := range m.Runs[0].Len {
		at := int64(m.Runs[0].Physical+b) * fs.bs
		blk := make([]byte, fs.bs)
		if err := fs.readAt(blk, at); err != nil {
			t.Fatal(err)
		}
		var ents []DirEntry
		fs.parseDirBlock(blk, false, &ents)
		if len(ents) > most {
			most, dirBlockAt = len(ents), at
		}
	}
	holes := []blockdev.Extent{{Off: bigAt, Len: lostEnd - lostStart}, {Off: smallAt, Len: int64(fs.SB.InodeSize)}, {Off: dirBlockAt, Len: fs.bs}}

	clean := t.TempDir()
	if _, err := fs.Extract("/", clean, ExtractOptions{}); err != nil {
		t.Fatal(err)
	}
	holey := blockdev.WithHoles(whole, holes, "not finished in ddrescue mapfile ext4.map")
	hfs, err := Open(holey, holey.Size(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	res, err := hfs.Extract("/", out, ExtractOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Damage() || len(res.Damaged) != 1 {
		t.Fatalf("damaged %+v", res.Damaged)
	}
	if d := res.Damaged[0]; d.Path != "/big" || d.Inode != big.Num || d.LostBytes != lostEnd-lostStart ||
		!slices.Equal(d.Lost, []ByteRange{{lostStart, lostEnd}}) {
		t.Fatalf("damaged file %+v, want /big losing %d-%d", d, lostStart, lostEnd)
	}
	want, _ := os.ReadFile(filepath.Join(clean, "root/big"))
	got, _ := os.ReadFile(filepath.Join(out, "root/big"))
	clear(want[lostStart:lostEnd])
	if !bytes.Equal(got, want) {
		t.Fatal("/big is not the whole image's copy with the lost range a hole")
	}
	var what []string
	for _, l := range res.UnreadableMetadata {
		what = append(what, l.What+" "+l.Path)
		if !strings.Contains(l.Error, "unreadable (not finished in ddrescue mapfile ext4.map)") {
			t.Errorf("%s %s: error %q does not name the gap", l.What, l.Path, l.Error)
		}
	}
	slices.Sort(what)
	if wantWhat := []string{"directory block /many", "inode /dir/small"}; !slices.Equal(what, wantWhat) {
		t.Fatalf("unreadable metadata %q, want %q", what, wantWhat)
	}
	// Everything else came out as from the whole image (the names in
	// /many's lost block are FIFOs, which extract skips anyway).
	cleanTree, gotTree := fixture.TreeSHA256(t, clean), fixture.TreeSHA256(t, out)
	for p, sum := range cleanTree {
		switch g, ok := gotTree[p]; {
		case p == "root/big":
		case p == "root/dir/small":
			if ok {
				t.Errorf("%s extracted though its inode is unreadable", p)
			}
		case g != sum:
			t.Errorf("%s: extracted %q, whole image gives %q", p, g, sum)
		}
	}
	if len(gotTree) != len(cleanTree)-1 {
		t.Errorf("%d files extracted, want %d", len(gotTree), len(cleanTree)-1)
	}
}
