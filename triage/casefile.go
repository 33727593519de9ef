package triage

import (
	"bytes"
	"fmt"
	"maps"
	"path/filepath"
	"slices"

	"holmes/casefile"
	"holmes/internal/safewrite"
	"holmes/plan"
)

// caseKind: an existing case file is updated (casefile keeps what people
// wrote in it); any other file at that place is kept.
var caseKind = safewrite.Kind{Name: "a case file", Is: func(p []byte) bool { return bytes.HasPrefix(bytes.TrimSpace(p), []byte("{")) }}

// vgKind: a metadata file of an earlier run may be replaced.
var vgKind = safewrite.Kind{Name: "an LVM metadata file", Is: func(p []byte) bool { return bytes.Contains(p, []byte("seqno")) }}

// WriteCase records the images' ddrescue mapfiles, every decided array (its trusted members in role
// order; left-out and missing members null) and every chosen VG, with its
// metadata file written beside the case file, so that --case FILE names
// md0, vg/lv and vg/lv:pN. Ambiguous arrays stay out. inputs are the
// evidence, which nothing may be written over.
func (t *Triage) WriteCase(path string, inputs []string) error {
	if err := safewrite.Check(path, inputs, caseKind); err != nil {
		return err
	}
	for _, image := range slices.Sorted(maps.Keys(t.maps)) {
		if err := casefile.SetMap(path, image, t.maps[image]); err != nil {
			return err
		}
	}
	for _, a := range t.arrays {
		if a.dev == nil {
			continue
		}
		var leftOut []string
		for i, m := range a.res.Members {
			leftOut = append(leftOut, "")
			if a.res.Trusted[i] == "" {
				leftOut[i] = m
			}
		}
		c := casefile.Array{Name: a.res.Name, Level: a.res.Level, Layout: a.res.Layout,
			ChunkBytes: a.res.ChunkBytes, DataOffset: a.res.DataOffset, DataSize: a.res.DataSize,
			Metadata: a.res.Metadata, Members: casefile.MemberList(a.res.Trusted)}
		if slices.ContainsFunc(leftOut, func(m string) bool { return m != "" }) {
			c.LeftOut = casefile.MemberList(leftOut)
		}
		err := casefile.SetArray(path, c)
		if err != nil {
			return err
		}
	}
	for i, g := range t.vgs {
		file := filepath.Join(filepath.Dir(path), fmt.Sprintf("%s_%d.vg", g.vg.Name, g.vg.Seqno))
		if err := safewrite.WriteFile(file, g.text, inputs, vgKind); err != nil {
			return err
		}
		if err := casefile.SetVolumeGroup(path, g.vg.Name, casefile.VolumeGroup{Metadata: file, PVs: g.res.PVs}); err != nil {
			return err
		}
		g.res.File = file
		t.Result.VolumeGroups[i].File = file
	}
	for _, dev := range t.fsOrder {
		if err := casefile.SetFilesystem(path, t.mainFS[dev].cf); err != nil {
			return err
		}
	}
	return t.planFrom(path)
}

// planFrom makes the plan from the case file as written, so that it is the
// plan holmes --case FILE plan prints.
func (t *Triage) planFrom(path string) error {
	c, err := casefile.Load(path)
	if err != nil {
		return err
	}
	p, err := plan.FromCase(c, plan.Options{Absent: t.absent})
	if err != nil {
		t.warn("no plan: %v", err)
		return nil
	}
	t.Result.Plan = p.Lines()
	t.Result.Warnings = append(t.Result.Warnings, p.Warnings...)
	return nil
}
