package report

import (
	"strings"
	"testing"
)

// FuzzReport puts any name and any byte range where the disks could put
// them and checks that both formats render, that the HTML keeps its
// structure, and that nothing a name holds becomes markup.
func FuzzReport(f *testing.F) {
	f.Add("<script>", int64(0), int64(4096), int64(diskSize))
	f.Add("```\n# x|[y](z)", int64(-5), int64(1)<<62, int64(0))
	f.Add("\x1b\xff\u202e</svg>", int64(7)<<60, int64(3), int64(-1))
	f.Fuzz(func(t *testing.T, name string, start, end, size int64) {
		r := incident()
		r.Devices[2].Name = name
		r.Devices[3].Size = size
		r.Devices[0].Partitions[1].Size = size
		r.Arrays[0].Name = name
		r.Arrays[1].Divergence[1].Start, r.Arrays[1].Divergence[1].End = start, end
		r.Arrays[1].Divergence[1].Touches[0].Path = name
		r.VolumeGroups[0].LVs[1] = name
		r.Filesystems[1].Label = name
		r.Plan = append(r.Plan, name)
		doc := htmlReport(t, r)
		for _, tag := range []string{"<script", "<img"} {
			if strings.Contains(strings.ToLower(doc), tag) {
				t.Errorf("%q in the HTML", tag)
			}
		}
		if open, closed := strings.Count(doc, "<svg "), strings.Count(doc, "</svg>"); open != closed {
			t.Errorf("%d <svg> against %d </svg>", open, closed)
		}
		outside, problems := fences(markdown(t, r))
		for _, p := range problems {
			t.Error(p)
		}
		if strings.Contains(outside, "<") {
			t.Errorf("a raw < outside the code blocks of the Markdown")
		}
	})
}
