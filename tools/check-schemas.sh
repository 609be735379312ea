#!/bin/sh
# SPDX-License-Identifier: MIT
# Checks the generated schemas: schemas/<version>/*.json must match what
# tools/gen-schemas.py makes from schemas/src/*.def, and, when the ocpp-rpc
# schema dir (its lib/schemas, holding the OCA bundles) is given as $1 and
# exists, every version folder present must match the OCA schemas
# (tools/compare-oca-schemas.js). Exit status: 0 when all is well, 1 otherwise.
# Usage: tools/check-schemas.sh [<ocpp-rpc lib/schemas dir>]

root=$(cd "$(dirname "$0")/.." && pwd)
rc=0

python3 "$root/tools/gen-schemas.py" --check || rc=1

if [ -n "$1" ] && [ -d "$1" ] && ! command -v node >/dev/null 2>&1; then
	# e.g. the arm64 build root: the generated schemas are checked above.
	echo "no node: OCA comparison skipped" >&2
elif [ -n "$1" ] && [ -d "$1" ]; then
	for version in 1.6 2.0.1 2.1; do
		[ -d "$root/schemas/$version" ] || continue
		node "$root/tools/compare-oca-schemas.js" "$1" "$root/schemas" "$version" || rc=1
	done
elif [ -n "$1" ]; then
	echo "$1: no such directory, OCA comparison skipped" >&2
fi

exit $rc
