package main

import (
	"encoding/json"
	"reflect"
	"slices"
	"testing"
)

// TestIncidentLab proves the images are what the record says, with what
// holmes reads today: md examine finds the installer's superblocks, md pairs
// the true pairs, lvm carve the old VG text on the raid1 members (the newest
// version only on the half that kept running), and compare the regions
// where the halves differ.
func TestIncidentLab(t *testing.T) {
	if testing.Short() {
		t.Skip("unpacks ten 64 MiB disks")
	}
	r := loadIncident(t)

	t.Run("examine", func(t *testing.T) {
		for _, a := range []incidentArray{r.Installer.Raid1, r.Installer.Raid10} {
			for role, dev := range a.Order {
				out, stderr, code := holmes(t, "md", "examine", "--json", incidentDev(t, dev))
				if code != 0 {
					t.Fatalf("md examine %s: exit %d: %s", dev, code, stderr)
				}
				var ex examineJSON
				if err := json.Unmarshal([]byte(out), &ex); err != nil {
					t.Fatal(err)
				}
				found := false
				for _, sb := range ex[0].Superblocks {
					if sb["array_uuid"] != a.UUID {
						continue
					}
					found = true
					if sb["version"] != a.Metadata || sb["level"] != a.Level || int64(sb["data_offset"].(float64)) != a.DataOffset ||
						int(sb["role"].(float64)) != role || int(sb["raid_disks"].(float64)) != a.RaidDisks {
						t.Errorf("%s: superblock %v, the installer made %+v role %d", dev, sb, a, role)
					}
				}
				if !found {
					t.Errorf("%s: no superblock of the installer's array %s", dev, a.UUID)
				}
			}
		}
	})

	t.Run("pairs", func(t *testing.T) {
		var devs, want []string
		for _, d := range r.Original.Raid10.Order {
			devs = append(devs, incidentDev(t, d))
		}
		pair := func(a, b string) string { return min(a, b) + " " + max(a, b) }
		for i := 0; i < len(devs); i += 2 {
			want = append(want, pair(devs[i], devs[i+1]))
		}
		out, stderr, code := holmes(t, append([]string{"md", "pairs", "--json"}, devs...)...)
		if code != 0 {
			t.Fatalf("md pairs: exit %d: %s", code, stderr)
		}
		var rep struct {
			Pairs []struct {
				Members [2]string `json:"members"`
			} `json:"pairs"`
		}
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, p := range rep.Pairs {
			got = append(got, pair(p.Members[0], p.Members[1]))
		}
		slices.Sort(got)
		slices.Sort(want)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("md pairs found %v, the original raid10 paired %v", got, want)
		}
	})

	t.Run("carve", func(t *testing.T) {
		// newest version of the old VG on each raid1 member: the half that
		// kept running has the backup file lvm wrote last.
		stale := r.NewerHalves["raid1"]
		for _, dev := range r.Original.Raid1.Order {
			want := r.Original.VG.Seqno
			if slices.Contains(mapValues(stale), dev) {
				want = r.Original.VGSeqnoBeforeDegraded
			}
			got, lvs := newestCarved(t, dev, r.Original.VG.UUID)
			if got != want {
				t.Errorf("%s: newest carved seqno of VG %s is %d, want %d", dev, r.Original.VG.UUID, got, want)
			}
			for _, lv := range r.Original.VG.LVs {
				if !slices.Contains(lvs, lv.Name) {
					t.Errorf("%s: carved VG lacks LV %s (has %v)", dev, lv.Name, lvs)
				}
			}
		}
	})

	t.Run("carve raid10", func(t *testing.T) {
		// The old PV's metadata area is on the first pair: the half that
		// kept running has the version lvm wrote while the other was gone;
		// the installer's new VG (seqno 1, no LVs) is on both.
		for newer, stale := range r.NewerHalves["raid10"] {
			if first := r.Original.Raid10.Order[:2]; !slices.Contains(first, newer) {
				continue
			}
			if got, _ := newestCarved(t, newer, r.Original.VG.UUID); got != r.Original.VG.Seqno {
				t.Errorf("%s: newest old VG seqno %d, want %d", newer, got, r.Original.VG.Seqno)
			}
			if got, _ := newestCarved(t, stale, r.Original.VG.UUID); got != r.Original.VGSeqnoBeforeDegraded {
				t.Errorf("%s: newest old VG seqno %d, want %d", stale, got, r.Original.VGSeqnoBeforeDegraded)
			}
			if got, lvs := newestCarved(t, newer, r.Installer.VG.UUID); got != r.Installer.VG.Seqno || len(lvs) != 0 {
				t.Errorf("%s: installer's VG at seqno %d with LVs %v, want %d and none", newer, got, lvs, r.Installer.VG.Seqno)
			}
		}
	})

	t.Run("compare", func(t *testing.T) {
		for _, c := range r.CmpAfter {
			out, stderr, code := holmes(t, "compare", "--raw", "--json", incidentDev(t, c.A), incidentDev(t, c.B))
			if code != 0 {
				t.Fatalf("compare %s %s: exit %d: %s", c.A, c.B, code, stderr)
			}
			var rep struct {
				DiffBytes int64 `json:"diff_bytes"`
				Regions   []struct {
					Start int64 `json:"start"`
					End   int64 `json:"end"`
				} `json:"regions"`
				RegionGap int64 `json:"region_gap"`
			}
			if err := json.Unmarshal([]byte(out), &rep); err != nil {
				t.Fatal(err)
			}
			if rep.DiffBytes != c.DiffBytes || rep.RegionGap != 0 || !reflect.DeepEqual(rep.Regions, c.Regions) {
				t.Errorf("compare %s %s: %d bytes in %v (gap %d), cmp said %d in %v", c.A, c.B,
					rep.DiffBytes, rep.Regions, rep.RegionGap, c.DiffBytes, c.Regions)
			}
			// every divergent region the installer left alone is among them
			for _, d := range r.Divergence {
				if !(d.Device == c.A && d.Other == c.B || d.Device == c.B && d.Other == c.A) || overwritten(r, d) {
					continue
				}
				covered := false
				for _, g := range c.Regions {
					covered = covered || g.Start <= d.Start && d.End <= g.End
				}
				if !covered {
					t.Errorf("divergent region %s %d-%d not found by compare", d.Device, d.Start, d.End)
				}
			}
		}
	})
}

// newestCarved returns the highest seqno lvm carve finds for VG uuid on dev
// and that version's LVs.
func newestCarved(t *testing.T, dev, uuid string) (int64, []string) {
	t.Helper()
	out, stderr, code := holmes(t, "lvm", "carve", "--json", incidentDev(t, dev))
	if code != 0 {
		t.Fatalf("lvm carve %s: exit %d: %s", dev, code, stderr)
	}
	var carved []struct {
		VGUUID   string   `json:"vg_uuid"`
		Seqno    int64    `json:"seqno"`
		LVs      []string `json:"lvs"`
		Complete bool     `json:"complete"`
	}
	if err := json.Unmarshal([]byte(out), &carved); err != nil {
		t.Fatal(err)
	}
	var seqno int64
	var lvs []string
	for _, c := range carved {
		if c.VGUUID == uuid && c.Complete && c.Seqno > seqno {
			seqno, lvs = c.Seqno, c.LVs
		}
	}
	return seqno, lvs
}

// overwritten: the installer wrote over part of divergent region d (on
// either half), so the halves may no longer differ there.
func overwritten(r incidentRecord, d incidentRegion) bool {
	for _, w := range r.InstallerWrites {
		if (w.Device == d.Device || w.Device == d.Other) && w.Start < d.End && d.Start < w.End {
			return true
		}
	}
	return false
}

func mapValues(m map[string]string) []string {
	var v []string
	for _, x := range m {
		v = append(v, x)
	}
	return v
}
