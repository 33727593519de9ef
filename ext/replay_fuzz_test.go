package ext

import (
	"io"
	"testing"
)

// FuzzJournalReplay feeds arbitrary journals (the seeds are the start of
// real ones: csum v3 and v1) to the jbd2 scanner and replays them onto a
// real filesystem: errors are fine, panics, hangs and huge allocations
// are not.
func FuzzJournalReplay(f *testing.F) {
	base := loadImage(f, "ext4-jv3-32")
	fsys, err := Open(base, int64(len(base)), Options{NoJournal: true})
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range []string{"ext4-jv3-32", "ext4-jv1"} {
		img := loadImage(f, name)
		j, err := Open(img, int64(len(img)), Options{NoJournal: true})
		if err != nil {
			f.Fatal(err)
		}
		in, _ := j.Inode(j.SB.JournalInum)
		r, _ := j.Reader(in)
		seed := make([]byte, 10*j.bs)
		r.ReadAt(seed, 0)
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, journal []byte) {
		l, err := openLog(memDev(journal), fsys.bs, 0, int64(len(journal)))
		if err != nil {
			return
		}
		rp := l.replay(fsys)
		view := &replayView{base: fsys.r, bs: fsys.bs, rp: rp}
		buf := make([]byte, 3*fsys.bs)
		for _, b := range rp.Blocks {
			view.ReadAt(buf, int64(b.Block)*fsys.bs-fsys.bs/2)
		}
		io.ReadFull(io.NewSectionReader(view, 0, 4*fsys.bs), buf)
	})
}
