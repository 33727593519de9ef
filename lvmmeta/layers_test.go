package lvmmeta

import (
	"strings"
	"testing"

	"holmes/blockdev"
)

// layersLab is the layers lab's VG (testdata/lab/lvm-layers.sh: raid6,
// raid10, a legacy mirror and three cached LVs over five PVs).
func layersLab(t *testing.T) (*VG, map[string]blockdev.Device) {
	t.Helper()
	return openLab(t, "layers", "layers.vg", "pv-a", "pv-b", "pv-c", "pv-d", "pv-e")
}

// layersSum is the sha256 the guest's kernel read from layers/NAME.
func layersSum(t *testing.T, name string) string {
	t.Helper()
	return recordedSum(t, "layers", "layers/"+name)
}

// raid6 (raid6_zr), raid10 (near, 2 copies) and the legacy mirror read
// byte-identical to the kernel's; raid6 with any two PVs gone, raid10 and
// the mirror with any one.
func TestLayersRaidMatchKernel(t *testing.T) {
	vg, pvs := layersLab(t)
	for _, lv := range []string{"r6", "r10", "m1"} {
		if got, want := lvSum(t, vg, lv, pvs), layersSum(t, lv); got != want {
			t.Errorf("%s: sha256 %s, the kernel's %s", lv, got, want)
		}
	}
	names := []string{"pv0", "pv1", "pv2", "pv3", "pv4"}
	for i, a := range names {
		for _, b := range names[i+1:] {
			if got := lvSum(t, vg, "r6", without(pvs, a, b)); got != layersSum(t, "r6") {
				t.Errorf("r6 without %s and %s: sha256 %s", a, b, got)
			}
		}
		for _, lv := range []string{"r10", "m1"} {
			if got := lvSum(t, vg, lv, without(pvs, a)); got != layersSum(t, lv) {
				t.Errorf("%s without %s: sha256 %s", lv, a, got)
			}
		}
	}
	r, err := vg.Raid("r10", pvs)
	if err != nil || r.Geometry.Layout != "n2" || r.Geometry.ChunkBytes != 65536 || r.Geometry.RaidDisks != 4 {
		t.Errorf("r10: %+v %v", r, err)
	}
	r, err = vg.Raid("r6", pvs)
	if err != nil || r.Geometry.Layout != "ddf-zero-restart" || r.Geometry.RaidDisks != 5 {
		t.Errorf("r6: %+v %v", r, err)
	}
	r, err = vg.Raid("m1", nil)
	if err != nil || r.Geometry.Level != "raid1" || r.Images[1].Data != "m1_mimage_1" || r.Images[1].Meta != "" || !strings.Contains(strings.Join(r.Notes, " "), "legacy mirror") {
		t.Errorf("m1: %+v %v", r, err)
	}
}

// The dm-cache LVs read through their caches byte-identical to what the
// kernel read from them (writethrough over a cache volume, writeback over
// a cache pool, metadata format 2, no dirty blocks left); writecache is
// refused, saying what it is and naming the origin. The writethrough
// cache's origin reads what the kernel read from the cached LV while the
// cache was live; the writecache's origin does not (its blocks were still
// in the fast LV), which is why it is not offered as the volume.
func TestLayersCachedLVs(t *testing.T) {
	vg, pvs := layersLab(t)
	for _, lv := range []string{"wt", "wb"} {
		if got := lvSum(t, vg, lv, pvs); got != layersSum(t, lv) {
			t.Errorf("%s read through the cache: sha256 %s, the kernel's %s", lv, got, layersSum(t, lv))
		}
	}
	if _, err := OpenLV(vg, "wc", pvs); err == nil || !strings.Contains(err.Error(), "lvm: layers/wc is a dm-writecache LV: writes land in the fast LV wcfast_cvol and reach the origin layers/wc_wcorig only when written back") {
		t.Errorf("wc: %v", err)
	}
	c, err := vg.Cache("wt", nil)
	if err != nil || !c.OriginComplete || c.Mode != "writethrough" || c.Origin != "wt_corig" || c.Fast != "wtfast_cvol" || c.Metadata != nil {
		t.Errorf("wt: %+v %v", c, err)
	}
	if c, err := vg.Cache("wb", nil); err != nil || c.OriginComplete || c.Mode != "writeback" || !strings.Contains(c.Why, "may be only in the cache wbpool_cpool (dirty)") {
		t.Errorf("wb: %+v %v", c, err)
	}
	// With the PVs the metadata says no block is dirty: the origin is the volume.
	for lv, dev := range map[string]string{"wt": "layers/wtfast_cvol-cmeta", "wb": "layers/wbpool_cpool_cmeta"} {
		c, err := vg.Cache(lv, pvs)
		if err != nil || c.Metadata == nil || c.Metadata.Device != dev || c.Metadata.Format != 2 || c.Metadata.Dirty != 0 || !c.OriginComplete || !strings.Contains(c.Why, "none dirty") {
			t.Errorf("%s: %+v %+v %v", lv, c, c.Metadata, err)
		}
	}
	if _, err := OpenLV(vg, "wbpool_cpool", pvs); err == nil || !strings.Contains(err.Error(), "a dm-cache pool (cache mode \"writeback\")") {
		t.Errorf("the cache pool: %v", err)
	}
	if got := lvSum(t, vg, "wt_corig", pvs); got != layersSum(t, "wt") {
		t.Errorf("wt_corig: sha256 %s, not the kernel's layers/wt", got)
	}
	if got := lvSum(t, vg, "wc_wcorig", pvs); got != layersSum(t, "wc_wcorig") || got == layersSum(t, "wc") {
		t.Errorf("wc_wcorig: sha256 %s", got)
	}
}
