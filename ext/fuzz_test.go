package ext

import (
	"bytes"
	"encoding/binary"
	"io"
	"os"
	"testing"

	"holmes/internal/fixture"
)

// The fuzz targets plant the fuzzer's bytes where one structure of a small
// real image lies (made by mke2fs and debugfs when the target starts) and
// read everything through the public API: any bytes must give values or
// errors, never a panic, a hang or a blow-up. Seeds are the real
// structure's bytes. bench/fuzz.sh runs them all.

// smallImage is fixture.SmallExt as a memory image.
func smallImage(t testing.TB, kind string) []byte {
	t.Helper()
	b, err := os.ReadFile(fixture.SmallExt(t, kind))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// place says where a fuzz target's bytes go in its base image.
type place struct {
	off int64
	len int
}

// fuzzStructure runs a fuzz target: the seed is the structure's bytes
// (plus extra seeds), the fuzzed bytes replace them in a copy of the image,
// and readEverything must come back.
func fuzzStructure(f *testing.F, kind string, where func(fs *FS) []place, extra ...[]byte) {
	base := smallImage(f, kind)
	fs, err := Open(memDev(base), int64(len(base)), Options{})
	if err != nil {
		f.Fatal(err)
	}
	places := where(fs)
	var seed []byte
	for _, p := range places {
		seed = append(seed, base[p.off:p.off+int64(p.len)]...)
	}
	f.Add(seed)
	for _, e := range extra {
		f.Add(e)
	}
	work := make(memDev, len(base))
	f.Fuzz(func(t *testing.T, b []byte) {
		copy(work, base)
		for _, p := range places {
			n := copy(work[p.off:p.off+int64(p.len)], b)
			b = b[n:]
		}
		readEverything(t, work)
	})
}

// readEverything opens img and reads all of it the ways the commands do.
func readEverything(t *testing.T, img memDev) {
	for _, choice := range []int64{SuperblockAuto, SuperblockPrimary} {
		fs, err := Open(img, int64(len(img)), Options{Superblock: choice})
		if err != nil {
			continue
		}
		fs.Problems()
		fs.Explain([]Region{{0, int64(len(img))}, {1024, 4096}, {int64(len(img)) / 2, 1 << 20}})
		if j, err := fs.Journal(); err == nil {
			for b := range uint64(64) {
				j.Copies(b)
			}
		}
		ns, err := fs.ScanInodes()
		if err != nil {
			continue
		}
		ns.Lost()
		for _, in := range ns.Unreferenced {
			ns.Path(in.Num)
		}
		matches, _, _ := fs.Find(ns.Roots(), "*")
		buf := make([]byte, 64<<10)
		for _, m := range matches {
			in, err := fs.Inode(m.Inode)
			if err != nil {
				continue
			}
			fs.StatInode(in)
			fs.WriteDebugfsStat(io.Discard, in)
			if r, err := fs.Reader(in); err == nil {
				r.ReadAt(buf, 0)
				r.DataRegions()
			}
			if in.IsDir() {
				fs.ReadDirWithDeleted(in)
			}
		}
	}
}

func inodePlace(fs *FS, path string) place {
	in, err := fs.Lookup(path)
	if err != nil {
		panic(err)
	}
	off, _ := fs.inodeLocation(in.Num)
	return place{off, int(fs.SB.InodeSize)}
}

func blockPlace(fs *FS, b uint64) place { return place{int64(b) * fs.bs, int(fs.bs)} }

// fileBlock is the physical block of logical block i of path.
func fileBlock(fs *FS, path string, i int) uint64 {
	in, _ := fs.Lookup(path)
	m, err := fs.Map(in)
	if err != nil || len(m.Runs) == 0 {
		panic("no blocks in " + path)
	}
	for _, r := range m.Runs {
		if uint64(i) < r.Len {
			return r.Physical + uint64(i)
		}
		i -= int(r.Len)
	}
	panic("short file " + path)
}

func FuzzExtSuperblock(f *testing.F) {
	fuzzStructure(f, "ext4", func(*FS) []place { return []place{{PrimaryOffset, SuperblockSize}} })
}

func FuzzExtGroupDescriptors(f *testing.F) {
	fuzzStructure(f, "ext4", func(fs *FS) []place { return []place{blockPlace(fs, uint64(fs.SB.FirstDataBlock)+1)} })
}

func FuzzExtInode(f *testing.F) {
	fuzzStructure(f, "ext4", func(fs *FS) []place {
		return []place{inodePlace(fs, "/"), inodePlace(fs, "/big"), inodePlace(fs, "/dir/slow")}
	})
}

// FuzzExtExtentTree fuzzes a file's extent root and a block its index
// entries may point to; the second seed is a depth-1 tree whose leaf lies
// in that block.
func FuzzExtExtentTree(f *testing.F) {
	base := smallImage(f, "ext4")
	fs, err := Open(memDev(base), int64(len(base)), Options{})
	if err != nil {
		f.Fatal(err)
	}
	leafBlock := fileBlock(fs, "/big", 0)
	root := make([]byte, 60)
	putExtentHeader(root, 1, 4, 1)
	binary.LittleEndian.PutUint32(root[12+4:], uint32(leafBlock))
	leaf := make([]byte, fs.bs)
	putExtentHeader(leaf, 2, int(fs.bs-12)/12, 0)
	for i, phys := range []uint64{leafBlock + 1, leafBlock + 5} {
		e := leaf[12+12*i:]
		binary.LittleEndian.PutUint32(e[0:], uint32(4*i))
		binary.LittleEndian.PutUint16(e[4:], 4)
		binary.LittleEndian.PutUint32(e[8:], uint32(phys))
	}
	fuzzStructure(f, "ext4", func(fs *FS) []place {
		p := inodePlace(fs, "/big")
		return []place{{p.off + 0x28, 60}, blockPlace(fs, leafBlock)}
	}, append(root, leaf...))
}

// FuzzExtIndirect fuzzes an ext2 block map and its single indirect block.
func FuzzExtIndirect(f *testing.F) {
	fuzzStructure(f, "ext2", func(fs *FS) []place {
		p := inodePlace(fs, "/big")
		in, _ := fs.Lookup("/big")
		ind := uint64(binary.LittleEndian.Uint32(in.block[12*4:]))
		return []place{{p.off + 0x28, 60}, blockPlace(fs, ind)}
	})
}

// FuzzExtDirectory fuzzes the first two blocks of an htree directory (the
// index root and a leaf) and a plain directory block.
func FuzzExtDirectory(f *testing.F) {
	fuzzStructure(f, "ext4", func(fs *FS) []place {
		return []place{blockPlace(fs, fileBlock(fs, "/many", 0)), blockPlace(fs, fileBlock(fs, "/many", 1)), blockPlace(fs, fileBlock(fs, "/dir", 0))}
	})
}

func FuzzExtInlineData(f *testing.F) {
	fuzzStructure(f, "inline", func(fs *FS) []place {
		return []place{inodePlace(fs, "/dir"), inodePlace(fs, "/dir/small"), inodePlace(fs, "/dir/mid")}
	})
}

func FuzzExtXattrs(f *testing.F) {
	fuzzStructure(f, "ext4", func(fs *FS) []place {
		in, _ := fs.Lookup("/big")
		return []place{blockPlace(fs, in.FileACL), inodePlace(fs, "/big")}
	})
}

// FuzzExtJournal fuzzes the journal superblock and the block after it;
// the second seed makes that block a descriptor logging two blocks.
func FuzzExtJournal(f *testing.F) {
	base := smallImage(f, "ext4")
	fs, err := Open(memDev(base), int64(len(base)), Options{})
	if err != nil {
		f.Fatal(err)
	}
	jsb := fileBlock(fs, "<8>", 0)
	desc := make([]byte, fs.bs)
	be := binary.BigEndian
	be.PutUint32(desc[0:], jbdMagic)
	be.PutUint32(desc[4:], jbdDescriptor)
	be.PutUint32(desc[8:], 7)
	be.PutUint32(desc[12:], uint32(fileBlock(fs, "/dir", 0)))
	be.PutUint32(desc[12+8+16:], RootIno)
	be.PutUint16(desc[12+8+16+6:], jbdFlagSameUUID|jbdFlagLastTag)
	seed := append(bytes.Clone(base[int64(jsb)*fs.bs:][:fs.bs]), desc...)
	fuzzStructure(f, "ext4", func(fs *FS) []place {
		return []place{blockPlace(fs, jsb), blockPlace(fs, jsb+1)}
	}, seed)
}
