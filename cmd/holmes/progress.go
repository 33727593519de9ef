package main

import (
	"fmt"
	"io"
	"os"
	"time"
)

// progress prints "compared 12.0 of 931.5 GiB (1%)" on stderr, rewritten in
// place at most twice a second, and only when stderr is a terminal: logs and
// scripts see nothing extra. Its update method has the shape the compare
// package takes; a nil *progress ignores updates.
type progress struct {
	w     io.Writer
	verb  string
	last  time.Time
	shown bool
}

func newProgress(stderr io.Writer, verb string) *progress {
	f, ok := stderr.(*os.File)
	if !ok {
		return nil
	}
	st, err := f.Stat()
	if err != nil || st.Mode()&os.ModeCharDevice == 0 {
		return nil
	}
	return &progress{w: f, verb: verb}
}

func (p *progress) update(done, total int64) {
	if p == nil || time.Since(p.last) < 500*time.Millisecond {
		return
	}
	p.last = time.Now()
	pct := int64(100)
	if total > 0 {
		pct = done * 100 / total
	}
	fmt.Fprintf(p.w, "\r%s %.1f of %.1f GiB (%d%%) ", p.verb, float64(done)/(1<<30), float64(total)/(1<<30), pct)
	p.shown = true
}

// stage names the step a long run is at ("triage: LVM...").
func (p *progress) stage(name string) {
	if p == nil {
		return
	}
	fmt.Fprintf(p.w, "\r%s %s...\033[K", p.verb, name)
	p.shown = true
}

// done clears the progress line.
func (p *progress) done() {
	if p != nil && p.shown {
		fmt.Fprint(p.w, "\r\033[K")
	}
}
