package mdraid

import (
	"fmt"
	"strconv"
	"strings"

	"holmes/blockdev"
)

// ParseMdadmSize parses a size as mdadm's --chunk and --data-offset take
// it: a bare number is KiB; otherwise as blockdev.ParseSize ("1M", "2048s").
// "" is 0.
func ParseMdadmSize(s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	if _, err := strconv.ParseInt(s, 10, 64); err == nil {
		s += "K"
	}
	return blockdev.ParseSize(s)
}

// RoleOrder puts member names in role order as an mdadm-style list of
// indices says ("2,0,missing,1", indices into names): the result holds,
// per role, a name or "" for a missing member. Without order the names are
// taken as given. The word "missing" may also stand among the names.
func RoleOrder(names []string, order string) ([]string, error) {
	member := func(s string) string {
		if s == "missing" {
			return ""
		}
		return s
	}
	if order == "" {
		out := make([]string, len(names))
		for i, s := range names {
			out[i] = member(s)
		}
		return out, nil
	}
	var out []string
	used := map[int]bool{}
	for _, f := range strings.Split(order, ",") {
		f = strings.TrimSpace(f)
		if f == "missing" || f == "-" {
			out = append(out, "")
			continue
		}
		i, err := strconv.Atoi(f)
		if err != nil || i < 0 || i >= len(names) || used[i] {
			return nil, fmt.Errorf("%q is not an unused index into the %d members (0-based) or \"missing\"", f, len(names))
		}
		used[i] = true
		out = append(out, member(names[i]))
	}
	return out, nil
}
