# Sourced by the bench scripts: a work directory in memory when there is one
# (so a run measures reading, not the disk's write speed), removed on exit,
# holding a fresh holmes build; and secs, the wall time of one command.
# The caller has cd'ed to the repository root.
base=/dev/shm
[ -d "$base" ] && [ -w "$base" ] || base=${TMPDIR:-/tmp}
work=$(mktemp -d "$base/holmes-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
go build -o "$work/holmes" ./cmd/holmes

# secs CMD...: seconds CMD took (its output and exit status are dropped;
# the caller checks results separately).
secs() {
	local t0 t1
	t0=$(date +%s.%N)
	"$@" >/dev/null 2>&1 || true
	t1=$(date +%s.%N)
	awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }'
}
