package trace

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"holmes/blockdev"
	"holmes/mdraid"
)

// A member's bytes, from its start to its end, are named in order: the
// metadata before the data with the 1.2 superblock in it, data chunks,
// P and Q parity by stripe, and what lies past the data.
func TestTraceMemberAreas(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"a.img", "b.img", "c.img", "d.img"} {
		if err := os.WriteFile(filepath.Join(dir, name), make([]byte, 1<<20), 0o444); err != nil {
			t.Fatal(err)
		}
	}
	s, err := hostileStack(t, dir, `{"arrays": [{"name": "md6", "level": "raid6", "chunk_bytes": 65536, "data_offset": 65536,
  "data_size": 786432, "metadata": "1.2", "members": ["a.img", "b.img", null, "d.img"], "left_out": [null, null, "c.img", null]}]}`)
	if err != nil {
		t.Fatal(err)
	}
	steps, err := s.Trace(filepath.Join(dir, "c.img"), 0, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	pos := int64(0)
	for _, st := range steps {
		if st.Layer != "md" {
			continue // the array's contents: nothing known
		}
		if st.Dev != "md6" {
			if st.Offset != pos {
				t.Errorf("step at %d, want %d: %+v", st.Offset, pos, st)
			}
			pos = st.Offset + st.Length
		} else {
			pos += st.Length
		}
		w := st.What
		if i := strings.Index(w, " (role"); i > 0 {
			w = w[:i]
		}
		got = append(got, w)
	}
	if pos != 1<<20 {
		t.Errorf("the steps end at %d, want the member's end", pos)
	}
	// left-symmetric raid6 over 4: role 2 holds P of stripes 1, 5, 9 and Q of 2, 6, 10.
	want := "md metadata area before the data|md superblock (1.2, of md6)|md metadata area before the data|" +
		"md6 data|parity of stripe 1 (md6)|Q parity of stripe 2 (md6)|md6 data|" +
		"md6 data|parity of stripe 5 (md6)|Q parity of stripe 6 (md6)|md6 data|" +
		"md6 data|parity of stripe 9 (md6)|Q parity of stripe 10 (md6)|md6 data|md metadata area after the data"
	if strings.Join(got, "|") != want {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "|"), want)
	}
}

// A stack built by hand (as triage builds one) may spell its members as
// it likes: relative paths match the absolute DEV a range is given on.
func TestTraceStackByHand(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"a.img", "b.img"} {
		if err := os.WriteFile(filepath.Join(dir, name), make([]byte, 1<<20), 0o444); err != nil {
			t.Fatal(err)
		}
	}
	t.Chdir(dir)
	g := mdraid.Geometry{Level: "raid1", RaidDisks: 2, DataOffset: 4096}
	s := &Stack{Arrays: []Array{{Name: "md9", Geometry: g, Members: []string{"a.img", "./b.img"}}},
		Open: func(name string) (blockdev.Device, error) {
			if name != "md9" {
				return blockdev.Open(name, nil)
			}
			a, err := blockdev.OpenFile("a.img")
			if err != nil {
				return nil, err
			}
			arr, err := mdraid.Open(g, []blockdev.Device{a, nil}, "md9")
			if err != nil {
				a.Close()
				return nil, err
			}
			return blockdev.Stack(arr, a), nil
		}}
	steps, err := s.Trace(filepath.Join(dir, "b.img"), 8192, 512)
	if err != nil {
		t.Fatal(err)
	}
	if len(steps) == 0 || steps[0].Dev != "md9" || steps[0].Offset != 4096 {
		t.Errorf("b.img @ 8192:\n%s", stepsText(steps))
	}
}
