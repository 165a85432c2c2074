#!/usr/bin/env sh
# Install axe-core (the accessibility engine the browser tests inject into each page) from the npm
# registry into .cache/axe/, which git ignores. Idempotent; the browser tests' conftest runs it when
# axe.min.js is missing, so `make test` needs no extra step.
#   usage: tests/browser/install_axe.sh            (from anywhere in the repository)
#   AXE_VERSION=4.14.1 overrides the pinned version.
set -eu
ROOT=$(CDPATH= cd -- "$(dirname -- "$0")/../.." && pwd)
AXE_VERSION=${AXE_VERSION:-4.14.1}
PREFIX="$ROOT/.cache/axe"
TARGET="$PREFIX/node_modules/axe-core/axe.min.js"
if [ -f "$TARGET" ] && grep -q "axe v$AXE_VERSION" "$TARGET"; then
  echo "axe-core $AXE_VERSION already in $PREFIX"
  exit 0
fi
command -v npm >/dev/null 2>&1 || { echo "npm is missing: install Node.js (apt-get install npm)" >&2; exit 1; }
mkdir -p "$PREFIX"
npm install --prefix "$PREFIX" --no-audit --no-fund --no-save --loglevel=error "axe-core@$AXE_VERSION"
test -f "$TARGET"
echo "axe-core $AXE_VERSION installed in $PREFIX"
