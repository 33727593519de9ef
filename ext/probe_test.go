package ext

import (
	"bytes"
	"os"
	"testing"

	"holmes/internal/fixture"
)

func publicImage(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(fixture.Unpack(t, fixture.Public(t, "util-linux/tests/ts/blkid/images-fs/"+name+".img.xz")))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestProbeSuperblock: the magic is seen where mke2fs wrote it and nowhere
// in a sector that only looks close.
func TestProbeSuperblock(t *testing.T) {
	img := publicImage(t, "ext4")
	if !ProbeSuperblock(img[PrimaryOffset:]) {
		t.Error("ext4 image: no magic at the primary superblock")
	}
	if ProbeSuperblock(img[:PrimaryOffset]) || ProbeSuperblock(img[PrimaryOffset:PrimaryOffset+0x39]) {
		t.Error("magic seen in the boot block or in a buffer too short to hold it")
	}
}

// TestReadJournalDevice reads util-linux's external journal image as blkid
// does (low-probe-jbd) and refuses a filesystem's superblock.
func TestReadJournalDevice(t *testing.T) {
	img := publicImage(t, "jbd")
	if _, err := ReadSuperblock(bytes.NewReader(img), PrimaryOffset); err == nil {
		t.Fatal("ReadSuperblock took a journal device for a filesystem")
	}
	sb, err := ReadJournalDevice(bytes.NewReader(img), PrimaryOffset)
	if err != nil || sb == nil {
		t.Fatalf("ReadJournalDevice: %v, %v", sb, err)
	}
	if sb.UUIDString() != "0d7a07df-7b06-4829-bce7-3b9c3ece570c" || sb.BlockSize() != 1024 || sb.Size() != 1048576 || !sb.IsJournalDevice() {
		t.Errorf("uuid %s, block size %d, size %d; blkid: 0d7a07df-7b06-4829-bce7-3b9c3ece570c, 1024, 1048576", sb.UUIDString(), sb.BlockSize(), sb.Size())
	}
	fs := publicImage(t, "ext4")
	if sb, err := ReadJournalDevice(bytes.NewReader(fs), PrimaryOffset); sb != nil || err != nil {
		t.Errorf("an ext4 filesystem read as a journal device: %v, %v", sb, err)
	}
	if sb, err := ReadJournalDevice(bytes.NewReader(img[:1500]), PrimaryOffset); sb != nil || err != nil {
		t.Errorf("a truncated superblock: %v, %v", sb, err)
	}
}
