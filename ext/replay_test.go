package ext

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"holmes/internal/fixture"
)

// journalFixtures are the journals debugfs's journal writer made
// (testdata/lab/ext-replay.sh): every tag format and checksum version,
// each with two blocks logged and one of them revoked by a later
// transaction (ext4-jv1's second commit fails its v1 checksum, so there
// the revoke is not applied, as e2fsck reports).
var journalFixtures = []string{"ext4-jv2-32", "ext4-jv2-64", "ext4-jv3-32", "ext4-j64", "ext4-jv1"}

func TestDebugfsJournalsReplayLikeE2fsck(t *testing.T) {
	fixture.SkipComparisonInShort(t, "e2fsck")
	for _, name := range journalFixtures {
		t.Run(name, func(t *testing.T) {
			fixture.SkipUnlessRepresentative(t, name, "ext4-jv3-32", "ext4-jv1")
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

// The real kernel committed three transactions (new files, a rename, a
// directory removed and its blocks revoked, a truncate, new data) and the
// device failed before the blocks went home: the replayed view reads what
// e2fsck -fy (which replays first) and debugfs rdump recover, and
// --no-journal the older on-disk state.
func TestKernelJournalReplayMatchesE2fsck(t *testing.T) {
	fixture.SkipComparisonInShort(t, "e2fsck")
	for _, name := range []string{"ext4-replay", "ext3-replay", "ext4-replay-ext"} {
		t.Run(name, func(t *testing.T) {
			fixture.SkipUnlessRepresentative(t, name, "ext4-replay-ext")
			opts := Options{}
			var e2fsckArgs []string
			if name == "ext4-replay-ext" {
				jdev := loadImage(t, name+".journal")
				opts.JournalDevice, opts.JournalDeviceSize = jdev, int64(len(jdev))
				copyPath := filepath.Join(t.TempDir(), "journal.img")
				if err := os.WriteFile(copyPath, jdev, 0o600); err != nil {
					t.Fatal(err)
				}
				e2fsckArgs = []string{"-j", copyPath}
			}
			fsys, img := openFixture(t, name, opts)
			rp := fsys.Replay
			if rp == nil || rp.Transactions < 2 || len(rp.Revoked) == 0 || len(rp.Skipped) != 0 {
				t.Fatalf("replay %+v: %v", rp, fsys.Problems())
			}
			if got := readAll(t, fsys, "/new/hello"); got != "written after mkfs\n" {
				t.Fatalf("/new/hello: %q", got)
			}
			if _, err := fsys.Lookup("/doomed"); err == nil {
				t.Fatal("/doomed was removed in a replayed transaction")
			}
			sameAsE2fsck(t, fsys, img, nil, e2fsckArgs...)

			changes, err := fsys.ReplayChanges()
			if err != nil {
				t.Fatal(err)
			}
			paths := map[string]bool{}
			for _, in := range changes.Inodes {
				for _, p := range in.Paths {
					paths[p] = true
				}
			}
			for _, p := range []string{"/new/hello", "/new/after-revoke.txt", "/home/user/renamed", "/hello-link"} {
				if !paths[p] {
					t.Errorf("replay report lacks %s: %+v", p, changes.Inodes)
				}
			}

			onDisk, _ := openFixture(t, name, Options{NoJournal: true, JournalDevice: opts.JournalDevice, JournalDeviceSize: opts.JournalDeviceSize})
			if _, err := onDisk.Lookup("/new/hello"); err == nil || onDisk.Replay != nil {
				t.Fatalf("--no-journal reads /new/hello: %v", err)
			}
			if !strings.Contains(strings.Join(onDisk.Problems(), ";"), "needs recovery") {
				t.Fatalf("--no-journal problems: %v", onDisk.Problems())
			}
		})
	}
	// Without the external journal the on-disk state is read and the
	// reason given.
	fsys, _ := openFixture(t, "ext4-replay-ext", Options{})
	if fsys.Replay != nil || !strings.Contains(strings.Join(fsys.Problems(), ";"), "--journal-device") {
		t.Fatalf("no journal device: %v", fsys.Problems())
	}
}

// With the primary superblock gone, the backup in use was written at mkfs
// and does not ask for recovery, but the journal holds committed
// transactions: e2fsck -fy runs it anyway ("Run journal anyway? yes"), and
// holmes replays it the same way and says why.
func TestReplayFromABackupSuperblock(t *testing.T) {
	img := loadImage(t, "ext3-replay")
	clear(img[1024:2048])
	p := filepath.Join(t.TempDir(), "primary-gone.img")
	if err := os.WriteFile(p, img, 0o400); err != nil {
		t.Fatal(err)
	}
	fsys, err := Open(img, int64(len(img)), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if fsys.Choice.Group == 0 || fsys.Replay == nil || !strings.Contains(fsys.JournalState(), "does not ask for recovery") {
		t.Fatalf("group %d, replay %v: %s", fsys.Choice.Group, fsys.Replay != nil, fsys.JournalState())
	}
	if got := readAll(t, fsys, "/new/hello"); got != "written after mkfs\n" {
		t.Fatalf("/new/hello: %q", got)
	}
	sameAsE2fsck(t, fsys, p, nil)
}
