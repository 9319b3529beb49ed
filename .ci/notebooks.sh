#!/usr/bin/env bash
# Execute every notebook in notebooks/ headless; exit non-zero if any cell fails.
#
# Needs only Python 3 (with venv and pip) and the Rust toolchain. It
#   - creates (or reuses) a virtualenv in target/notebook-venv and installs notebooks/requirements.txt,
#   - builds the release binary (cargo build --release; a no-op when it is up to date),
#   - runs each notebook with nbconvert into target/notebooks-out/ (the committed notebooks keep no outputs).
# The notebooks find capsim through $CAPSIM, which this script sets to the binary it just built.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)

venv=target/notebook-venv
out=target/notebooks-out
py=${PYTHON:-python3}

mkdir -p target
if [ ! -x "$venv/bin/python" ]; then
    echo "== creating virtualenv $venv"
    "$py" -m venv "$venv"
fi
# Reinstall only when the requirements changed since the last successful install.
stamp="$venv/.requirements.installed"
kernel=capsim-notebooks
if ! cmp -s notebooks/requirements.txt "$stamp" 2>/dev/null || [ ! -d "$venv/share/jupyter/kernels/$kernel" ]; then
    echo "== pip install -r notebooks/requirements.txt"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r notebooks/requirements.txt
    # A kernel of the venv's own Python, so that a user-wide "python3" kernel can't be picked instead.
    "$venv/bin/python" -m ipykernel install --sys-prefix --name "$kernel" --display-name "Python (capsim notebooks)" >/dev/null
    cp notebooks/requirements.txt "$stamp"
    echo "   installed in $(( $(date +%s) - start )) s"
fi

echo "== cargo build --release"
t0=$(date +%s)
cargo build --release --quiet
echo "   built in $(( $(date +%s) - t0 )) s"
export CAPSIM="$PWD/target/release/capsim"

export MPLBACKEND=Agg          # no display: render plots off-screen
export PYDEVD_DISABLE_FILE_VALIDATION=1
export JUPYTER_PLATFORM_DIRS=1 # silence jupyter_core's deprecation warning about platform dirs
mkdir -p "$out"

failed=0
passed=0
shopt -s nullglob
notebooks=(notebooks/*.ipynb)
if [ ${#notebooks[@]} -eq 0 ]; then
    echo "no notebooks found in notebooks/" >&2
    exit 1
fi
for nb in "${notebooks[@]}"; do
    echo "== executing $nb"
    t0=$(date +%s)
    if "$venv/bin/jupyter" nbconvert --to notebook --execute \
        --ExecutePreprocessor.timeout=600 --ExecutePreprocessor.kernel_name="$kernel" \
        --output-dir "$out" "$nb" 2> "$out/$(basename "$nb" .ipynb).log"; then
        echo "   ok in $(( $(date +%s) - t0 )) s -> $out/$(basename "$nb")"
        passed=$((passed + 1))
    else
        echo "   FAILED after $(( $(date +%s) - t0 )) s; nbconvert said:" >&2
        grep -v "Kernel is running over TCP" "$out/$(basename "$nb" .ipynb).log" | tail -40 >&2
        failed=$((failed + 1))
    fi
done

if [ "$failed" -eq 0 ]; then
    echo "notebooks: all $passed executed without error ($(( $(date +%s) - start )) s)"
else
    echo "notebooks: $failed of $((passed + failed)) FAILED ($(( $(date +%s) - start )) s)" >&2
    exit 1
fi
