#!/bin/sh
# h2inc.sh - turn a header of plain "#define NAME value" lines into a NASM
# include, so that C, NASM and the linker scripts share one definition.
# Usage: tools/h2inc.sh include/layout.h > build/gen/layout.inc
set -eu
echo "; generated from $1 by tools/h2inc.sh - do not edit"
sed -n 's/^#define[[:space:]]\{1,\}\([A-Z0-9_]\{1,\}\)[[:space:]]\{1,\}\([^/]*[^/[:space:]]\).*$/%define \1 \2/p' "$1" \
    | grep -v "(.*[a-z]" | grep -v "\"" || true
