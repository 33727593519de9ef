package ext

import (
	"testing"
)

// journalFixtures are the journals debugfs's journal writer made
// (testdata/lab/ext-replay.sh): every tag format and checksum version,
// each with two blocks logged and one of them revoked by a later
// transaction (ext4-jv1's second commit fails its v1 checksum, so there
// the revoke is not applied, as e2fsck reports).
var journalFixtures = []string{"ext4-jv2-32", "ext4-jv2-64", "ext4-jv3-32", "ext4-j64", "ext4-jv1"}

func TestDebugfsJournalsReplayLikeE2fsck(t *testing.T) {
	for _, name := range journalFixtures {
		t.Run(name, func(t *testing.T) {
			fsys, img := openFixture(t, name, Options{})
			rp := fsys.Replay
			if rp == nil {
				t.Fatalf("not replayed: %v", fsys.Problems())
			}
			wantBlocks, wantRevoked := 1, 1
			if name == "ext4-jv1" {
				wantBlocks, wantRevoked = 2, 0
			}
			if len(rp.Blocks) != wantBlocks || len(rp.Revoked) != wantRevoked || len(rp.Skipped) != 0 {
				t.Fatalf("replayed %v, revoked %v, skipped %v (%s)", rp.Blocks, rp.Revoked, rp.Skipped, rp.EndReason)
			}
			if got := readAll(t, fsys, "/etc/hostname"); got != "replaye" { // the data block is replaced, the size stays 7
				t.Fatalf("/etc/hostname after the replay: %.40q", got)
			}
			sameAsE2fsck(t, fsys, img, nil)
			onDisk, _ := openFixture(t, name, Options{NoJournal: true})
			if got := readAll(t, onDisk, "/etc/hostname"); got != "holmes\n" || onDisk.Replay != nil {
				t.Fatalf("--no-journal: /etc/hostname %q", got)
			}
		})
	}
}

func readAll(t *testing.T, fsys *FS, p string) string {
	t.Helper()
	in, err := fsys.Lookup(p)
	if err != nil {
		t.Fatal(err)
	}
	r, err := fsys.Reader(in)
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, r.Size())
	if _, err := r.ReadAt(b, 0); err != nil && len(b) > 0 && err.Error() != "EOF" {
		t.Fatal(err)
	}
	return string(b)
}
