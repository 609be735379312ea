#!/bin/sh
# SPDX-License-Identifier: MIT
# Rewrites the generated tables of docs/TRANSLATION.md from the translator
# tables compiled into the tr-coverage test (the test builds the expected
# block; this script only splices it between the markers), and the twin
# harness's scenario and rule tables from tests/interop/twin/ (node). It
# edits nothing else in the file.
# Usage: tools/gen-translation-doc.sh [build-dir]   (default: build)
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
doc=$root/docs/TRANSLATION.md
tmp=$(mktemp)
trap 'rm -f "$tmp" "$tmp.md"' EXIT

meson compile -C "$build" test-tr-coverage >/dev/null
# The test writes the expected block, then fails while the doc differs.
OGW_TRANSLATION_OUT=$tmp "$build/tests/unit/translators/test-tr-coverage" \
	--filter 'coverage/translation_doc' >/dev/null 2>&1 || true
test -s "$tmp" || { echo "gen-translation-doc: the test wrote no tables" >&2; exit 1; }
grep -q '^<!-- BEGIN GENERATED TABLES' "$doc" || {
	echo "gen-translation-doc: $doc has no generated-table markers" >&2; exit 1; }

awk -v block="$tmp" '
	/^<!-- BEGIN GENERATED TABLES/ { while ((getline l < block) > 0) print l; skip = 1; next }
	/^<!-- END GENERATED TABLES -->/ { skip = 0; next }
	!skip { print }
' "$doc" > "$tmp.md"
mv "$tmp.md" "$doc"
# The twin harness's scenarios and rules (tests/interop/twin/rules.mjs).
node "$root/tests/interop/twin/doc.mjs" --write "$doc"
echo "updated $doc"
