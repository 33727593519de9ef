package shell

import (
	"os/exec"
	"testing"
)

// What sh reads back from a quoted word is the word.
func TestQuoteRoundTrip(t *testing.T) {
	for _, s := range []string{"/dev/md0", "disk 1.img", "it's", "", "a$b`c`", "x;rm -rf /", "disk:1.img:p1", "100%"} {
		out, err := exec.Command("sh", "-c", "printf %s "+Quote(s)).Output()
		if err != nil || string(out) != s {
			t.Errorf("Quote(%q) = %s: sh reads %q (%v)", s, Quote(s), out, err)
		}
	}
}
