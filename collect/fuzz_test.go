package collect

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// seedArchive is a small valid archive: one device of 64 KiB with two
// regions and a smartctl output.
func seedArchive(t testing.TB) []byte {
	data := map[string][]byte{
		"holmes-collect/0/0+4096":        bytes.Repeat([]byte{1}, 4096),
		"holmes-collect/0/61440+4096":    bytes.Repeat([]byte{2}, 4096),
		"holmes-collect/0/smartctl.json": []byte(`{"smartctl": {"exit_status": 0}}`),
	}
	dev := Device{Name: "/dev/sdz", Size: 64 << 10, BlockDevice: true}
	for _, r := range [][2]int64{{0, 4096}, {61440, 4096}} {
		f := File{File: "holmes-collect/0/" + strconv.FormatInt(r[0], 10) + "+4096"}
		f.BLAKE3 = sum(data[f.File])
		dev.Regions = append(dev.Regions, Region{Offset: r[0], Length: r[1], File: f, What: []string{"test"}})
	}
	dev.SMART = &File{File: "holmes-collect/0/smartctl.json", BLAKE3: sum(data["holmes-collect/0/smartctl.json"])}
	m := &Manifest{Format: Format, Created: time.Unix(1796169600, 0).UTC(), Devices: []Device{dev}, Warnings: []string{}}
	var buf bytes.Buffer
	if err := write(&buf, m, data); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// FuzzOpen opens crafted archives: any tar and manifest (sizes, offsets,
// overlapping or out-of-range regions, members missing or extra) opens
// with its devices reading only what is kept, or fails with an error;
// never a panic, a hang or an allocation the input does not justify.
func FuzzOpen(f *testing.F) {
	seed := seedArchive(f)
	f.Add(seed)
	f.Add(seed[:len(seed)/2])
	f.Add(bytes.Replace(seed, []byte(`"offset": 61440`), []byte(`"offset": 2048`), 1))
	f.Add(bytes.Replace(seed, []byte(`"size": 65536`), []byte(`"size": 9223372036854775807`), 1))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte) {
		tmp, err := os.CreateTemp(dir, "a-*.tar")
		if err != nil {
			t.Fatal(err)
		}
		defer os.Remove(tmp.Name())
		tmp.Write(b)
		tmp.Close()
		a, err := Open(tmp.Name())
		if err != nil {
			return
		}
		for _, name := range a.Names() {
			d, err := a.Open(name)
			if err != nil {
				t.Fatal(err)
			}
			p := make([]byte, 512)
			for _, off := range []int64{0, d.Size() / 2, d.Size() - 1, d.Size()} {
				d.ReadAt(p, off)
			}
			d.Close()
			if _, err := a.SMART(name); err != nil {
				t.Fatal(err)
			}
		}
		if !IsArchive(tmp.Name()) {
			t.Errorf("opens, but IsArchive says no")
		}
	})
}

func TestSeedArchiveOpens(t *testing.T) {
	path := filepath.Join(t.TempDir(), "seed.tar")
	if err := os.WriteFile(path, seedArchive(t), 0o444); err != nil {
		t.Fatal(err)
	}
	a, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	out, err := a.SMART("/dev/sdz")
	if err != nil || !bytes.Contains(out, []byte("exit_status")) {
		t.Errorf("smartctl output %q, %v", out, err)
	}
	if abs := a.Absent(); !abs["/dev/sdz"] {
		t.Errorf("absent %v: /dev/sdz was a block device", abs)
	}
	d, err := a.Open("/dev/sdz")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	p := make([]byte, 8192)
	if n, err := d.ReadAt(p, 0); n != 4096 || err == nil {
		t.Errorf("read across the end of a region: %d, %v", n, err)
	}
}
