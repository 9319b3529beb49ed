#!/usr/bin/env bash
# submit.sh: run a capsim sweep, run or size as a Slurm job array of N shards plus a merge job.
#
#   deploy/slurm/submit.sh [options] sweep|run|size MODEL [-- EXTRA CAPSIM ARGS...]
#
# It submits capsim-array.sbatch with --array=1-N (one shard per task) and capsim-merge.sbatch with
# --dependency=afterok:<array job> (it runs once every task succeeded, and is cancelled if one
# failed), then prints both job ids as shell assignments:
#   array_job=123
#   merge_job=124
# The merged result, OUTDIR/merged.json, is byte-identical to running the command whole.
#
# size: the N tasks size together, exchanging every evaluation's parts through OUTDIR/exchange, so
# ALL N MUST RUN AT THE SAME TIME: the partition needs room for N tasks of -c CPUs at once (do not
# add a %K throttle through -s). A task waits at most --exchange-wait (default 1h; e.g.
# -- --exchange-wait 4h) for the others, then stops (exit 3). Each task writes the whole answer,
# part-<i>.sizing.json; exit code 1 there (no configuration meets the SLOs) is an answer, recorded in
# OUTDIR/status/ while the task exits 0. The merge job re-runs the sizing as shard 1/N with
# --exchange-wait 1m over OUTDIR/exchange (nothing left to simulate: seconds), writes merged.json
# (and -r's report) and checks it is byte-identical to every part file. Evaluations already in
# OUTDIR/exchange are reused, also by a later submission with -f: delete OUTDIR/exchange to recompute.
#
# Options:
#   -n N        number of shards, i.e. array tasks (default 4, or $CAPSIM_SHARDS)
#   -o DIR      output directory for part files, logs and merged.json; it must be on a file system
#               all nodes see (default capsim-out, or $CAPSIM_OUTDIR)
#   -m FILE     the merged JSON (default OUTDIR/merged.json)
#   -r DIR      also write a report directory (report.html, plots, CSV) from the merge job
#   -c N        CPUs per shard: --cpus-per-task, and capsim's --threads (default 1)
#   -b PATH     the capsim binary, as the compute nodes see it (default $CAPSIM, else capsim on PATH)
#   -s 'OPTS'   extra sbatch options for both jobs, split on spaces, e.g. -s '-p short -A myproj'
#   -f          clear part files and status left in OUTDIR by an earlier submission (else refuse)
# Everything after "--" goes to capsim, e.g. -- --seed 7 --replications 40 or -- --sweep NAME.
#
# Examples:
#   deploy/slurm/submit.sh -n 4 -o out/ladder sweep models/db-migration.json
#   deploy/slurm/submit.sh -n 10 -c 4 -o out/run run models/quickstart.json -- --replications 200
#   deploy/slurm/submit.sh -n 4 -c 2 -o out/size -r out/size/report size models/quickstart.json
# Watch with: squeue -j <array_job>,<merge_job>; logs are in OUTDIR/logs/.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
shards=${CAPSIM_SHARDS:-4}
outdir=${CAPSIM_OUTDIR:-capsim-out}
merged=
report=
cpus=1
capsim=${CAPSIM:-capsim}
sbatch_opts=()
force=

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }
while getopts n:o:m:r:c:b:s:fh opt; do
    case "$opt" in
        n) shards=$OPTARG ;;
        o) outdir=$OPTARG ;;
        m) merged=$OPTARG ;;
        r) report=$OPTARG ;;
        c) cpus=$OPTARG ;;
        b) capsim=$OPTARG ;;
        s) read -r -a sbatch_opts <<<"$OPTARG" ;;
        f) force=1 ;;
        *) usage ;;
    esac
done
shift $((OPTIND - 1))
[ $# -ge 2 ] || usage
command=$1 model=$2
shift 2
[ "${1:-}" = "--" ] && shift
case "$command" in run|sweep|size) ;; *) echo "submit.sh: command must be run, sweep or size, not '$command'" >&2; exit 2 ;; esac
[[ "$shards" =~ ^[1-9][0-9]*$ ]] || { echo "submit.sh: -n wants a positive number, got '$shards'" >&2; exit 2; }
[[ "$cpus" =~ ^[1-9][0-9]*$ ]] || { echo "submit.sh: -c wants a positive number, got '$cpus'" >&2; exit 2; }
[ -f "$model" ] || { echo "submit.sh: no model file $model" >&2; exit 2; }
if ! command -v "$capsim" >/dev/null; then
    echo "submit.sh: warning: capsim binary '$capsim' not found here; the jobs need it on the compute nodes" >&2
fi
merged=${merged:-$outdir/merged.json}

# Parts from an earlier submission would be merged with the new ones: refuse, or clear them with -f
# (part-*.json covers size's part-*.sizing.json). A sizing's OUTDIR/exchange is kept: it holds
# evaluations, not answers, and reusing them is what lets a stopped sizing resume.
shopt -s nullglob
old=("$outdir"/part-*.json "$outdir"/part-*.shard "$outdir"/status/*.exit)
if [ ${#old[@]} -gt 0 ]; then
    if [ -z "$force" ]; then
        echo "submit.sh: $outdir already holds part files or status from an earlier job; use -f to clear them, or another -o" >&2
        exit 2
    fi
    rm -f "${old[@]}"
fi
mkdir -p "$outdir/logs" "$outdir/status"

# The jobs get this environment (sbatch's default --export=ALL).
export CAPSIM=$capsim CAPSIM_SHARDS=$shards

array_job=$(sbatch --parsable "${sbatch_opts[@]}" \
    --array="1-$shards" --cpus-per-task="$cpus" \
    --output="$outdir/logs/capsim-%A_%a.out" \
    "$here/capsim-array.sbatch" "$command" "$model" "$outdir" "$@")
array_job=${array_job%%;*}   # --parsable prints "id" or "id;cluster"

# The merge job gets the command, model and extra arguments too (a sizing's merge re-runs it); with
# no extra arguments both jobs fall back to $CAPSIM_ARGS alike.
extra=()
[ $# -gt 0 ] && extra=(-- "$@")
merge_job=$(sbatch --parsable "${sbatch_opts[@]}" \
    --dependency="afterok:$array_job" --kill-on-invalid-dep=yes \
    --output="$outdir/logs/merge-%j.out" \
    "$here/capsim-merge.sbatch" "$outdir" "$merged" "$report" "$command" "$model" "${extra[@]}")
merge_job=${merge_job%%;*}

echo "array_job=$array_job"
echo "merge_job=$merge_job"
echo "submit.sh: $shards shards of 'capsim $command $model' -> $merged (logs in $outdir/logs/)" >&2
if [ "$command" = size ]; then
    echo "submit.sh: a sizing's $shards tasks must all run at the same time (they wait for each other)" >&2
fi
