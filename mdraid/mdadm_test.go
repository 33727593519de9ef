package mdraid

import (
	"slices"
	"testing"
)

func TestParseMdadmSize(t *testing.T) {
	for s, want := range map[string]int64{"": 0, "512": 512 << 10, "1M": 1 << 20, "2048s": 1 << 20} {
		if got, err := ParseMdadmSize(s); err != nil || got != want {
			t.Errorf("ParseMdadmSize(%q) = %d, %v; want %d", s, got, err, want)
		}
	}
	if _, err := ParseMdadmSize("12Q"); err == nil {
		t.Error("12Q accepted")
	}
}

func TestRoleOrder(t *testing.T) {
	names := []string{"a", "b", "missing", "c"}
	for order, want := range map[string][]string{
		"":              {"a", "b", "", "c"},
		"3,missing,1,0": {"c", "", "b", "a"},
		"2, 0":          {"", "a"},
		"-,1":           {"", "b"},
	} {
		if got, err := RoleOrder(names, order); err != nil || !slices.Equal(got, want) {
			t.Errorf("RoleOrder(%q) = %q, %v; want %q", order, got, err, want)
		}
	}
	for _, order := range []string{"0,0", "4", "x"} {
		if _, err := RoleOrder(names, order); err == nil {
			t.Errorf("RoleOrder(%q) accepted", order)
		}
	}
}
