package lvmmeta

import "fmt"

// RestoreFileNames names the restore file of each complete result (as
// Results ranks them) VG_SEQNO.vg; a second VG with the same name and seqno
// (an installer's new VG) gets its uuid's first characters added. An
// incomplete result gets "": it cannot be restored.
func RestoreFileNames(res []*Carved) []string {
	names := make([]string, len(res))
	used := map[string]bool{}
	for i, r := range res {
		if !r.Complete {
			continue
		}
		name := fmt.Sprintf("%s_%d.vg", r.VG, r.Seqno)
		if used[name] {
			name = fmt.Sprintf("%s_%d_%s.vg", r.VG, r.Seqno, r.VGUUID[:min(6, len(r.VGUUID))])
		}
		used[name] = true
		names[i] = name
	}
	return names
}

// NewestComplete keeps the newest complete version of each VG name from
// results ranked as Results ranks them: what a recovery restores.
func NewestComplete(res []*Carved) []*Carved {
	var out []*Carved
	done := map[string]bool{}
	for _, r := range res {
		if r.Complete && !done[r.VG] {
			done[r.VG] = true
			out = append(out, r)
		}
	}
	return out
}
