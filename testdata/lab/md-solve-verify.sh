#!/bin/bash
# md-solve-verify.sh: closes the loop on holmes md solve with the real
# kernel. For each solve fixture of the md lab (testdata/md, kind "solve"),
# holmes solves fresh copies of the disks; md-try-create.sh runs the mdadm
# --create line it prints inside user-mode Linux on copies of those (never
# on the fixtures), activates the LVs and runs e2fsck -fn on every ext
# filesystem. The record, testdata/mdsolve/verify/NAME.txt, holds the line holmes printed, the
# create's messages and each e2fsck's output and exit status.
#
#   md-solve-verify.sh [NAME...]      default: every solve fixture
set -euo pipefail
for tool in jq xz linux.uml mdadm; do command -v $tool >/dev/null || { echo "md-solve-verify: needs $tool (Debian: jq, xz-utils, user-mode-linux, mdadm)" >&2; exit 1; }; done
LAB=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$LAB/../.." && pwd)
OUT=$ROOT/testdata/mdsolve/verify
mkdir -p "$OUT"
holmes=$(mktemp -d)/holmes
(cd "$ROOT" && go build -o "$holmes" ./cmd/holmes)
names=("$@")
[ ${#names[@]} -gt 0 ] || mapfile -t names < <(jq -r '.[] | select(.kind == "solve") | .name' "$ROOT/testdata/md/manifest.json")
for name in "${names[@]}"; do
	work=$(mktemp -d)
	mapfile -t disks < <(jq -r --arg n "$name" '.[] | select(.name == $n) | .disks[]' "$ROOT/testdata/md/manifest.json")
	imgs=()
	for d in "${disks[@]}"; do
		img=$work/$(basename "$d" .xz)
		xz -dc "$ROOT/testdata/md/$d" >"$img"
		imgs+=("$img")
	done
	line=$(cd "$work" && "$holmes" md solve --json $(printf '%s\n' "${imgs[@]}" | xargs -n1 basename) | jq -r .mdadm_create)
	echo "== $name" >&2
	(
		echo "holmes: $line"
		cd "$work" && "$LAB/md-try-create.sh" $line
	) >"$OUT/$name.txt" 2>&1 || { cat "$OUT/$name.txt" >&2; echo "md-solve-verify: $name failed" >&2; }
	rm -rf "$work"
done
