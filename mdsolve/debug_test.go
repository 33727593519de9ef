package mdsolve

import (
	"fmt"
	"os"
	"testing"

	"holmes/blockdev"
	"holmes/mdraid"
)

func TestDebugAnchors(t *testing.T) {
	name := os.Getenv("DBG")
	if name == "" {
		t.Skip()
	}
	for _, f := range fixturesOfKind(t, "solve-matrix") {
		if f.Name != name {
			continue
		}
		devs, _ := openDisks(t, f.Disks)
		s := &solver{devs: devs, opt: Options{Window: 256 << 20, Samples: 256, ExhaustiveOrders: 5040, RaidDisks: len(devs)}}
		var err error
		if s.scan, err = scanMembers(devs, s.opt.Window); err != nil {
			t.Fatal(err)
		}
		for _, a := range s.scan.anchors {
			t.Logf("anchor %s off %d holders %v fs %s at %d", a.what, a.offset, a.holders, a.fs, a.at)
		}
		for _, d := range s.scan.dataOffsets()[:1] {
			for _, g := range s.geometries(family{level: f.Original.Level, layouts: []string{f.Original.Layout}, chunked: true, width: 1}, d) {
				fit := s.fitAnchors(g)
				if g.ChunkBytes == f.Original.ChunkBytes {
					members := make([]blockdev.Device, len(devs))
					copy(members, devs)
					arr, _ := mdraid.Open(g, members, "x")
					byFS := map[string][]anchor{}
					for _, a := range s.scan.anchors {
						if a.fs != "" {
							byFS[a.fs] = append(byFS[a.fs], a)
						}
					}
					for u, copies := range byFS {
						st, n := s.fsStart(arr, g.DataOffset, copies, false)
						t.Logf("fs %s start %d support %d", u, st, n)
						for i, a := range copies {
							for role := range len(devs) {
								if at, ok := arr.ArrayOffset(role, a.offset-g.DataOffset); ok {
									t.Logf("  copy %d role %d: at %d start %d", i, role, at, at-a.at)
								}
							}
						}
					}
				}
				t.Logf("%s %s %d off %d: fit %.1f misfit %.1f fixed %d w %v", g.Level, g.Layout, g.ChunkBytes, g.DataOffset, fit.fit, fit.misfit, fit.fixed, fit.w)
			}
		}
	}
}

func TestDebugCandidates(t *testing.T) {
	name := os.Getenv("DBG")
	if name == "" {
		t.Skip()
	}
	for _, f := range fixturesOfKind(t, "solve-matrix") {
		if f.Name != name {
			continue
		}
		devs, _ := openDisks(t, f.Disks)
		s := &solver{devs: devs, opt: Options{Window: 256 << 20, Samples: 256, ExhaustiveOrders: 5040, RaidDisks: len(devs)}}
		var err error
		if s.scan, err = scanMembers(devs, s.opt.Window); err != nil {
			t.Fatal(err)
		}
		offsets := s.scan.dataOffsets()
		s.facts, _ = sampleMembers(devs, min(offsets[0]+sampleStartGap, devs[0].Size()/4), s.scan.dataBlocks, 256)
		fams := s.facts.families(len(devs), 0)
		t.Logf("offsets %v lvStarts %v", offsets, s.scan.volumeStarts)
		count := map[string]int{}
		for _, c := range s.candidates(fams, offsets) {
			k := fmt.Sprintf("%s %s %d %d fit %.1f/%.1f", c.geo.Level, c.geo.Layout, c.geo.ChunkBytes, c.geo.DataOffset, c.fit.fit, c.fit.misfit)
			count[k]++
		}
		for k, n := range count {
			t.Logf("%s: %d", k, n)
		}
	}
}
