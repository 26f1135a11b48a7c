#!/usr/bin/env bash
# Checks that every C++ source is formatted as the root .clang-format says, with the
# clang-format version the project pins (scripts/setup.sh). Lists the files that are not;
# `scripts/check-format.sh --fix` formats them in place.
set -euo pipefail
cd "$(dirname "$0")/.."
format=clang-format-14
command -v "$format" >/dev/null || { echo "error: $format is missing (run scripts/setup.sh)" >&2; exit 2; }
mapfile -t files < <(git ls-files '*.cpp' '*.h')
if [ "${1:-}" = "--fix" ]; then
    "$format" -i "${files[@]}"
    exit 0
fi
bad=()
for f in "${files[@]}"; do
    "$format" --dry-run --Werror "$f" >/dev/null 2>&1 || bad+=("$f")
done
if [ ${#bad[@]} -gt 0 ]; then
    echo "error: not formatted with $format (scripts/check-format.sh --fix): ${bad[*]}" >&2
    exit 1
fi
echo "format: ${#files[@]} files clean"
