#!/usr/bin/env bash
# Regenerates pkg/docs/settings.png, the screenshot in pkg/README.md, from the
# browser test's run (the decisions for a failing server, in German). Run by
# hand after changing the page; the test command does not touch the image.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
SPFGATE_SCREENSHOTS="$out" tests/browser/run.sh
mkdir -p pkg/docs
cp "$out/readme.png" pkg/docs/settings.png
echo "wrote pkg/docs/settings.png"
