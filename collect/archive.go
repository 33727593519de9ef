package collect

import (
	"archive/tar"
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/zeebo/blake3"

	"holmes/blockdev"
)

// The archive is a plain tar (docs/collect.md): the manifest first, then
// one member per region and one per saved smartctl report, each named in
// the manifest. Any tar tool lists and extracts it.
const (
	// ManifestName is the archive's first member.
	ManifestName = "holmes-collect/manifest.json"
	// Format names the manifest's layout; a reader refuses others.
	Format = "holmes collect 1"
	// NotCollected is the Why of every read outside the kept regions.
	NotCollected = blockdev.NotCollected
)

// Manifest says what the archive holds: every device as it was named when
// collected, and the regions of it kept, each with its BLAKE3.
type Manifest struct {
	Format   string    `json:"format"`
	Created  time.Time `json:"created"`
	Devices  []Device  `json:"devices"`
	Warnings []string  `json:"warnings"`
}

// Device is one DEV given to collect.
type Device struct {
	Name string `json:"name"`
	Size int64  `json:"size"`
	// BlockDevice: a disk of the system (not an image file), which a plan
	// attaches as it is.
	BlockDevice bool     `json:"block_device"`
	Regions     []Region `json:"regions"`
	// SMART is the smartctl -x -j output kept for a block device, or why
	// there is none (SMARTError).
	SMART      *File  `json:"smart,omitempty"`
	SMARTError string `json:"smart_error,omitempty"`
}

// Region is a byte range of a device kept in the archive.
type Region struct {
	Offset int64 `json:"offset"`
	Length int64 `json:"length"`
	File
	// What says which structures the range holds ("md 1.2 superblock",
	// "ext superblock copy of group 3 on guests/home", ...).
	What []string `json:"what"`
}

// File is a member of the archive and its content's BLAKE3 (hex).
type File struct {
	File   string `json:"file"`
	BLAKE3 string `json:"blake3"`
}

// Bounds of what a reader accepts: an archive is a few MiB per disk, and a
// crafted one must not make the reader allocate or loop without end.
const (
	maxManifest = 64 << 20
	maxDevices  = 4096
	maxRegions  = 1 << 20 // over all devices
	maxSMART    = 16 << 20
)

func sum(b []byte) string {
	s := blake3.Sum256(b)
	return hex.EncodeToString(s[:])
}

// write puts the manifest and the bytes of every region (data, in the
// manifest's order) into a tar on w.
func write(w io.Writer, m *Manifest, data map[string][]byte) error {
	tw := tar.NewWriter(w)
	js, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	put := func(name string, b []byte) error {
		hdr := &tar.Header{Name: name, Mode: 0o444, Size: int64(len(b)), ModTime: m.Created, Typeflag: tar.TypeReg}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		_, err := tw.Write(b)
		return err
	}
	if err := put(ManifestName, append(js, '\n')); err != nil {
		return err
	}
	for _, d := range m.Devices {
		for _, r := range d.Regions {
			if err := put(r.File.File, data[r.File.File]); err != nil {
				return err
			}
		}
		if d.SMART != nil {
			if err := put(d.SMART.File, data[d.SMART.File]); err != nil {
				return err
			}
		}
	}
	return tw.Close()
}

// Archive is a collect archive opened for reading, its every member checked
// against the manifest.
type Archive struct {
	Path     string
	Manifest Manifest
	// at is where each member's bytes start in the file, size how many.
	at, size map[string]int64
}

// IsArchive says whether path is a collect archive: a tar whose first
// member is the manifest. It reads one tar header.
func IsArchive(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		return false
	}
	b := make([]byte, 512)
	if _, err := io.ReadFull(f, b); err != nil {
		return false
	}
	return IsArchivePrefix(b)
}

// IsArchivePrefix says whether b, a file's first bytes (one tar block at
// least), starts a collect archive.
func IsArchivePrefix(b []byte) bool {
	hdr, err := tar.NewReader(bytes.NewReader(b)).Next()
	return err == nil && hdr.Name == ManifestName
}

// countingReader tells how far the tar reader has read: after Next, the
// start of the member's bytes.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// Open reads the archive at path and verifies it: the manifest's bounds,
// and every member's BLAKE3. A bad member is an error naming its device
// and region.
func Open(path string) (*Archive, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	a, err := read(f)
	if err != nil {
		return nil, fmt.Errorf("collect archive %s: %w", path, err)
	}
	a.Path = path
	return a, nil
}

func read(f io.Reader) (*Archive, error) {
	cr := &countingReader{r: f}
	tr := tar.NewReader(cr)
	hdr, err := tr.Next()
	if err != nil {
		return nil, fmt.Errorf("not a tar: %w", err)
	}
	if hdr.Name != ManifestName {
		return nil, fmt.Errorf("first member is %q, not %s: not a holmes collect archive", hdr.Name, ManifestName)
	}
	if hdr.Size > maxManifest {
		return nil, fmt.Errorf("manifest of %d bytes is too large", hdr.Size)
	}
	js, err := io.ReadAll(io.LimitReader(tr, maxManifest))
	if err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	a := &Archive{at: map[string]int64{}, size: map[string]int64{}}
	if err := json.Unmarshal(js, &a.Manifest); err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	want, err := a.Manifest.check()
	if err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		m, ok := want[hdr.Name]
		_, seen := a.at[hdr.Name]
		switch {
		case seen:
			return nil, fmt.Errorf("member %s appears twice", hdr.Name)
		case !ok:
			return nil, fmt.Errorf("member %s is not in the manifest", hdr.Name)
		case hdr.Typeflag != tar.TypeReg:
			return nil, fmt.Errorf("member %s is not a regular file", hdr.Name)
		case m.size < 0 && hdr.Size > maxSMART:
			return nil, fmt.Errorf("%s: member %s of %d bytes is too large", m.what, hdr.Name, hdr.Size)
		case m.size >= 0 && hdr.Size != m.size:
			return nil, fmt.Errorf("%s: member %s holds %d bytes, the manifest says %d", m.what, hdr.Name, hdr.Size, m.size)
		}
		a.at[hdr.Name], a.size[hdr.Name] = cr.n, hdr.Size
		h := blake3.New()
		if n, err := io.Copy(h, tr); err != nil || n != hdr.Size {
			return nil, fmt.Errorf("%s: member %s: short (%d of %d bytes): %v", m.what, hdr.Name, n, hdr.Size, err)
		}
		if got := hex.EncodeToString(h.Sum(nil)); got != m.blake3 {
			return nil, fmt.Errorf("%s: BLAKE3 %s, the manifest says %s: the archive is damaged", m.what, got, m.blake3)
		}
		delete(want, hdr.Name)
	}
	if len(want) > 0 {
		var missing []string
		for _, m := range want {
			missing = append(missing, m.what)
		}
		slices.Sort(missing)
		return nil, fmt.Errorf("missing from the archive: %s", strings.Join(missing, "; "))
	}
	return a, nil
}

// expected is a member the manifest names.
type expected struct {
	size   int64
	blake3 string
	what   string // for errors: the device and region
}

// check bounds the manifest and lists the members it names.
func (m *Manifest) check() (map[string]expected, error) {
	if m.Format != Format {
		return nil, fmt.Errorf("format %q, want %q", m.Format, Format)
	}
	if len(m.Devices) > maxDevices {
		return nil, fmt.Errorf("%d devices (at most %d)", len(m.Devices), maxDevices)
	}
	want := map[string]expected{}
	names := map[string]bool{}
	regions := 0
	add := func(f File, size int64, what string) error {
		if f.File == "" || f.File == ManifestName {
			return fmt.Errorf("%s: bad member name %q", what, f.File)
		}
		if _, dup := want[f.File]; dup {
			return fmt.Errorf("%s: member %s named twice", what, f.File)
		}
		if len(f.BLAKE3) != 64 {
			return fmt.Errorf("%s: BLAKE3 %q is not 64 hex digits", what, f.BLAKE3)
		}
		want[f.File] = expected{size, strings.ToLower(f.BLAKE3), what}
		return nil
	}
	for _, d := range m.Devices {
		if d.Name == "" || names[d.Name] {
			return nil, fmt.Errorf("device name %q empty or given twice", d.Name)
		}
		names[d.Name] = true
		if d.Size <= 0 {
			return nil, fmt.Errorf("%s: size %d", d.Name, d.Size)
		}
		if regions += len(d.Regions); regions > maxRegions {
			return nil, fmt.Errorf("more than %d regions", maxRegions)
		}
		end := int64(0)
		for _, r := range d.Regions {
			what := fmt.Sprintf("%s region %d+%d", d.Name, r.Offset, r.Length)
			if r.Offset < end || r.Length <= 0 || r.Length > d.Size || r.Offset > d.Size-r.Length {
				return nil, fmt.Errorf("%s: outside the device (size %d), empty, or not after the region before", what, d.Size)
			}
			end = r.Offset + r.Length
			if err := add(r.File, r.Length, what); err != nil {
				return nil, err
			}
		}
		if d.SMART != nil {
			// The size is the member's: known only from the tar header, bounded there.
			if err := add(*d.SMART, -1, d.Name+" smartctl output"); err != nil {
				return nil, err
			}
		}
	}
	return want, nil
}

// Names lists the devices the archive holds, as they were named.
func (a *Archive) Names() []string {
	var n []string
	for _, d := range a.Manifest.Devices {
		n = append(n, d.Name)
	}
	return n
}

// Has says whether the archive holds a device of that name.
func (a *Archive) Has(name string) bool { return a.device(name) != nil }

func (a *Archive) device(name string) *Device {
	for i := range a.Manifest.Devices {
		if a.Manifest.Devices[i].Name == name {
			return &a.Manifest.Devices[i]
		}
	}
	return nil
}

// Open returns device name as the archive holds it: its original size and
// name, its kept regions readable, and every other byte an
// *blockdev.UnreadableError "not collected". Closing it closes its own
// handle on the archive file.
func (a *Archive) Open(name string) (blockdev.Device, error) {
	d := a.device(name)
	if d == nil {
		return nil, fmt.Errorf("%s: no device %s in the archive (it holds %s)", a.Path, name, strings.Join(a.Names(), ", "))
	}
	f, err := os.Open(a.Path)
	if err != nil {
		return nil, err
	}
	dev := &archived{f: f, name: d.Name, size: d.Size}
	var kept []blockdev.Extent
	for _, r := range d.Regions {
		dev.regions = append(dev.regions, placed{r.Offset, r.Length, a.at[r.File.File]})
		kept = append(kept, blockdev.Extent{Off: r.Offset, Len: r.Length})
	}
	return blockdev.ReadableOnly(dev, kept, NotCollected), nil
}

// Absent maps the devices the archive holds that are not present here,
// by absolute path, to whether each was a block device (triage.Options.Absent).
func (a *Archive) Absent() map[string]bool {
	m := map[string]bool{}
	for _, d := range a.Manifest.Devices {
		abs, err := filepath.Abs(d.Name)
		if err != nil {
			continue
		}
		if _, err := os.Stat(abs); err != nil {
			m[abs] = d.BlockDevice
		}
	}
	return m
}

// SMART returns the smartctl output kept for device name, if any.
func (a *Archive) SMART(name string) ([]byte, error) {
	d := a.device(name)
	if d == nil || d.SMART == nil {
		return nil, nil
	}
	f, err := os.Open(a.Path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b := make([]byte, a.size[d.SMART.File])
	if _, err := f.ReadAt(b, a.at[d.SMART.File]); err != nil {
		return nil, fmt.Errorf("%s: %s: %w", a.Path, d.SMART.File, err)
	}
	return b, nil
}

type placed struct {
	off, length, at int64
}

// archived reads the kept regions of one device from the archive file; the
// ReadableOnly wrapper keeps reads inside them.
type archived struct {
	f       *os.File
	name    string
	size    int64
	regions []placed
}

func (d *archived) Size() int64  { return d.size }
func (d *archived) Name() string { return d.name }
func (d *archived) Close() error { return d.f.Close() }

func (d *archived) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("negative offset %d", off)
	}
	if off >= d.size {
		return 0, io.EOF
	}
	want := len(p)
	p = p[:min(int64(len(p)), d.size-off)]
	n := 0
	for n < len(p) {
		at := off + int64(n)
		i, ok := slices.BinarySearchFunc(d.regions, at, func(r placed, x int64) int {
			switch {
			case r.off+r.length <= x:
				return -1
			case r.off > x:
				return 1
			}
			return 0
		})
		if !ok {
			return n, &blockdev.UnreadableError{Dev: d.name, Off: at, Len: 1, Why: NotCollected}
		}
		r := d.regions[i]
		k := min(int64(len(p)-n), r.off+r.length-at)
		if _, err := d.f.ReadAt(p[n:n+int(k)], r.at+at-r.off); err != nil {
			return n, fmt.Errorf("%s: reading the archive: %w", d.name, err)
		}
		n += int(k)
	}
	if n < want {
		return n, io.EOF
	}
	return n, nil
}
