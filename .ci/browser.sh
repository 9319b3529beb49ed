#!/usr/bin/env bash
# The report pages in a real browser: every example model's report.html (with all its scenarios)
# opened in headless Chromium by tests/browser/check_reports.py, which checks that it renders
# with no console error and no request outside its directory, that the answer (a headline per
# run, the verdict matrix) is in the rendered DOM, and that with details collapsed the page is at
# most 8 screens tall and under 1 MB. Installs Debian's chromium with apt-get when missing (needs
# root or passwordless sudo). `--screenshot PNG` also writes the top of the first report (the
# README's picture is docs/images/report-top.png, made this way).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -eq 0 ]; then as_root=(); else as_root=(sudo -n); fi
if ! command -v chromium >/dev/null; then
    echo "== installing chromium"
    apt_install() { "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium; }
    apt_install || { "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q && apt_install; }
fi
chromium --version

CAPSIM=${CAPSIM:-target/release/capsim}
if [ ! -x "$CAPSIM" ]; then
    echo "== cargo build --release ($CAPSIM missing)"
    cargo build --release --quiet
fi

out=target/browser-reports
rm -rf "$out"
mkdir -p "$out"
dirs=()
# The case studies first: blast-radius has the most scenarios, so it is the tallest page.
for model in models/blast-radius.json models/*.json; do
    name=$(basename "$model" .json)
    [ -d "$out/$name" ] && continue
    # Two replications: the page's layout does not depend on their number, and CI stays quick.
    "$CAPSIM" run "$model" --all-scenarios --replications 2 --quiet --report "$out/$name" >/dev/null
    dirs+=("$out/$name")
done
screenshot=()
if [ "${1:-}" = "--screenshot" ]; then screenshot=(--screenshot "$2"); fi
python3 tests/browser/check_reports.py "${screenshot[@]}" "${dirs[@]}"
