package lvmmeta

import (
	"os"
	"strings"
	"testing"

	"holmes/internal/fixture"
)

func TestParseBackupFile(t *testing.T) {
	vg := labBackup(t)
	if vg.Name != "guests" || vg.ID != "Pyle22-eexN-W886-ZjpO-RFCi-YbWd-tLzZ15" || vg.Seqno != 45 || vg.ExtentSize != 1<<20 {
		t.Errorf("vg = %s %s %d %d", vg.Name, vg.ID, vg.Seqno, vg.ExtentSize)
	}
	if len(vg.PVs) != 2 || vg.PVs[1].ID != "m9NfcT-N2Wa-rtiZ-4UrA-kA2o-BoPc-1j2CY8" || vg.PVs[1].PEStart != 128<<10 || vg.PVs[1].PECount != 23 {
		t.Errorf("pv1 = %+v", vg.PVs[1])
	}
	root := vg.LV("root")
	if root == nil || len(root.Segments) != 2 || root.Segments[1].Stripes[0] != (Stripe{PV: "pv1", StartExtent: 2, Offset: 128<<10 + 2<<20}) {
		t.Fatalf("root = %+v", root)
	}
	st := vg.LV("stripe").Segments[0]
	if st.StripeSize != 64<<10 || len(st.Stripes) != 2 {
		t.Errorf("stripe segment = %+v", st)
	}
	if m := vg.LV("mirror").Segments[0]; m.Type != "raid1" || len(m.Legs) != 4 {
		t.Errorf("mirror segment = %+v", m)
	}
	if th := vg.LV("thin").Segments[0]; th.Type != "thin" || th.Refs["thin_pool"] != "pool" {
		t.Errorf("thin segment = %+v", th)
	}
	if got := vg.ThinPools(); len(got) != 1 || got[0] != "pool" {
		t.Errorf("thin pools = %v", got)
	}
	if home := vg.LV("home"); len(home.Tags) != 31 || home.Tags[0] != "owner=ops" {
		t.Errorf("home tags = %v", home.Tags)
	}
	if vg.LV("tmp") != nil {
		t.Error("removed LV tmp is present")
	}
}

func TestParseEscapesAndComments(t *testing.T) {
	root, err := Parse([]byte("# c\na = \"x\\\"y\\\\z\" # tail\nb = [1, -2, 1.5, 's\\',]\nc { d = [] }\x00garbage {{{"))
	if err != nil {
		t.Fatal(err)
	}
	if got := root.Field("a").Value.Str; got != `x"y\z` {
		t.Errorf("a = %q", got)
	}
	if l := root.Field("b").Value.List; len(l) != 4 || l[1].Int != -2 || l[2].Float != 1.5 || l[3].Str != `s\` {
		t.Errorf("b = %+v", l)
	}
	if c := root.Section("c"); c == nil || len(c.Field("d").Value.List) != 0 {
		t.Errorf("c = %+v", c)
	}
}

func TestParseErrorsCarryLineAndColumn(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		{"vg {\n\tid = \"x\"\n\tseqno = ?\n}\n", "line 3, column 10: expected a value"},
		{"vg {\n\tid = \"x\n", "line 2, column 7: string is not closed"},
		{"vg {\n\tid = \"x\"\n", "line 3, column 1: section \"vg\" (opened at line 1, column 1) is not closed"},
		{"a = [1 2]", "line 1, column 8: expected ',' or ']'"},
		{"}", "line 1, column 1: unexpected '}'"},
		{"vg {\n id = \"u\"\n seqno = 1\n extent_size = 8192\n physical_volumes {\n pv0 {\n id = \"p\"\n pe_start = 2048\n pe_count = 10\n }\n }\n logical_volumes {\n lv { id = \"l\"\n segment_count = 1\n segment1 { start_extent = 0\n extent_count = 4\n type = \"striped\"\n stripe_count = 1\n stripes = [\"pv9\", 0] } } } }",
			"line 19, column 13: segment1: stripe on \"pv9\""},
	} {
		_, err := ParseText([]byte(tc.text))
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%q: err = %v, want %q", tc.text, err, tc.want)
		}
	}
}

// The example from lvm2's documentation, as libvslvm keeps it: a 2007 file
// (no format or flags fields) with space indentation.
func TestParseDocumentationSample(t *testing.T) {
	text, err := os.ReadFile(fixture.Public(t, "other/libvslvm/metadata-sample-from-doc.txt"))
	if err != nil {
		t.Fatal(err)
	}
	vg, err := ParseText(text)
	if err != nil {
		t.Fatal(err)
	}
	lv := vg.LV("mylv")
	if vg.Name != "myvg" || len(vg.PVs) != 4 || vg.ExtentSize != 4<<20 || lv == nil || lv.Extents() != 2560 ||
		lv.Segments[1].Stripes[0] != (Stripe{PV: "pv1", StartExtent: 0, Offset: 384 * 512}) {
		t.Errorf("vg = %+v, mylv = %+v", vg, lv)
	}
	if !strings.Contains(vg.Description, "lvextend -L+5G") || vg.CreationTime != 1170196095 {
		t.Errorf("header: %q %d", vg.Description, vg.CreationTime)
	}
}
