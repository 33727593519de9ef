package compare

import (
	"bytes"
	"testing"

	"holmes/blockdev"
)

// TestSampleBlocksAndAgreement samples the md data areas of three lab
// members, two of them mirror halves (pairs d0 and d3): every block handed
// over is the device's own, blocks past an area are nil, and the halves
// agree (the lab wrote a few blocks to one half only) where the third
// member does not.
func TestSampleBlocksAndAgreement(t *testing.T) {
	var devs []blockdev.Device
	var areas []DataArea
	for _, name := range []string{"pairs/d0.img.xz", "pairs/d3.img.xz", "pairs/d1.img.xz"} {
		d, _ := labDev(t, name)
		a, ok, err := MD(d)
		if err != nil || !ok {
			t.Fatalf("%s: no md data area: %v", name, err)
		}
		devs, areas = append(devs, d), append(areas, a)
	}
	areas[2].Size = 8 * BlockSize // the third ends early
	var offsets []int64
	for k := range int64(64) {
		offsets = append(offsets, k*BlockSize)
	}
	agree := NewAgreement(len(devs))
	k := 0
	err := SampleBlocks(devs, areas, offsets, func(blocks [][]byte) {
		for i, b := range blocks {
			want := make([]byte, BlockSize)
			if offsets[k]+BlockSize > areas[i].Size {
				if b != nil {
					t.Errorf("device %d offset %d: a block past its area", i, offsets[k])
				}
				continue
			}
			if err := readFull(devs[i], want, areas[i].Offset+offsets[k]); err != nil || !bytes.Equal(b, want) {
				t.Fatalf("device %d offset %d: sampled block differs from the device's (%v)", i, offsets[k], err)
			}
		}
		agree.Add(blocks)
		k++
	})
	if err != nil || k != len(offsets) {
		t.Fatalf("sampled %d of %d offsets: %v", k, len(offsets), err)
	}
	if seen := agree.Seen(0, 1); seen < 32 || agree.Same(1, 0) < seen*9/10 {
		t.Errorf("mirror halves: %d of %d informative samples identical", agree.Same(0, 1), seen)
	}
	if seen := agree.Seen(0, 2); seen > 8 || agree.Same(0, 2) == seen {
		t.Errorf("unrelated members: %d of %d identical over 8 shared blocks", agree.Same(0, 2), seen)
	}
}
