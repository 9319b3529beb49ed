#!/usr/bin/env bash
# Test deploy/slurm/ on a throwaway single-node Slurm cluster on this machine.
#
# It
#   - installs slurm-wlm and munge with apt-get when slurmctld is missing (needs root or passwordless sudo),
#   - starts munged unless a working one is already running (creating its key if missing),
#   - writes a minimal slurm.conf for one node (this host, 127.0.0.1) in a temporary directory, points
#     SLURM_CONF at it, and starts slurmctld and slurmd in the foreground as background jobs,
#   - submits capsim's case-3 latency-ladder sweep (models/db-migration.json, 11 points) as a 4-shard
#     job array plus a merge job with deploy/slurm/submit.sh, and waits for them,
#   - runs the same sweep whole and checks the merged JSON is byte-identical (cmp),
#   - does the same for a run split by replications (models/quickstart.json, 3 shards, a few seconds),
#   - and for a sizing (a tiny M/M/c model written to the temporary directory, 2 shards that run at
#     once and exchange evaluations; the merge job re-runs it over them and cmp's every part), and
#     checks the answer is Erlang C's 5 workers,
#   - always stops what it started (trap EXIT) and prints the job and daemon logs on failure.
# $CAPSIM is the capsim binary (default target/release/capsim, built if missing).
# About 1.6 minutes on 2 idle cores (the sizing takes about 6 s of it). Environment knobs:
# SLURM_CI_PORT (slurmctld port, slurmd uses +1; default 16817), SLURM_CI_TIMEOUT (seconds to wait
# for the jobs, default 300), SLURM_CI_KEEP=1 keeps the temporary directory.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
elapsed() { echo "$(( $(date +%s) - start )) s"; }

# Root for apt-get and the daemons: ourselves when root, else sudo (as on hosted CI runners).
# An array, not a function: "${as_root[@]}" daemon & must leave the daemon's own pid (or sudo's) in $!.
if [ "$(id -u)" -eq 0 ]; then as_root=(); else as_root=(sudo -n); fi
export PATH="$PATH:/usr/sbin:/sbin"   # slurmctld, slurmd and munged live in /usr/sbin

CAPSIM=${CAPSIM:-target/release/capsim}
if [ ! -x "$CAPSIM" ]; then
    echo "== cargo build --release ($CAPSIM missing)"
    cargo build --release --quiet
fi
CAPSIM=$(cd "$(dirname "$CAPSIM")" && pwd)/$(basename "$CAPSIM")
export CAPSIM

# ---------------------------------------------------------------------------------------------------
echo "== slurm and munge"
if ! command -v slurmctld >/dev/null; then
    apt_install() { "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends slurm-wlm munge; }
    apt_install || { "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q && apt_install; }
    echo "   installed in $(elapsed)"
fi
slurmctld -V

work=
slurmctld_pid= slurmd_pid= munged_pid=
job_ids=
cleanup() {
    rc=$?
    set +e
    if [ $rc -ne 0 ] && [ -n "$work" ]; then
        echo "== FAILED (exit $rc) after $(elapsed); logs follow"
        for f in "$work"/out/*/logs/* "$work"/out/*/status/*; do
            [ -f "$f" ] && { echo "---- $f"; cat "$f"; }
        done
        for j in $job_ids; do scontrol show job "$j" 2>&1 | grep -E 'JobId=|JobState=|Reason='; done
        for f in "$work"/log/*.stderr; do
            [ -f "$f" ] && { echo "---- $f (last 40 lines)"; tail -n 40 "$f"; }
        done
    fi
    # Cancel jobs still queued or running so no job process outlives its slurmd.
    if [ -n "$slurmctld_pid" ] && [ -n "$job_ids" ]; then
        scancel $job_ids 2>/dev/null
        for _ in $(seq 20); do
            [ -z "$(squeue -h -o %i 2>/dev/null)" ] && break
            sleep 0.5
        done
    fi
    # The daemons: the pids we started (sudo passes the signal on) and those in their pid files.
    pids="$slurmd_pid $slurmctld_pid"
    [ -n "$work" ] && pids="$pids $(cat "$work/slurmd.pid" "$work/slurmctld.pid" 2>/dev/null | tr '\n' ' ')"
    for pid in $pids; do "${as_root[@]}" kill "$pid" 2>/dev/null; done
    for pid in $pids; do
        for _ in $(seq 40); do [ -d "/proc/$pid" ] || break; sleep 0.25; done
        [ -d "/proc/$pid" ] && { echo "   pid $pid did not stop: killing it"; "${as_root[@]}" kill -KILL "$pid" 2>/dev/null; }
    done
    wait 2>/dev/null
    if [ -n "$munged_pid" ]; then
        "${as_root[@]}" kill "$munged_pid" 2>/dev/null
    fi
    if [ -n "$work" ]; then
        if [ $rc -eq 0 ] && [ -z "${SLURM_CI_KEEP:-}" ]; then
            "${as_root[@]}" rm -rf "$work"
        else
            echo "   kept $work"
        fi
    fi
    echo "== slurm test $([ $rc -eq 0 ] && echo passed || echo FAILED) in $(elapsed)"
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# munge: Slurm's authentication. Use a running munged if it answers, else start one as user munge.
if munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    echo "   munged already running"
else
    key=/etc/munge/munge.key
    if ! "${as_root[@]}" test -f "$key"; then
        echo "   creating $key"
        "${as_root[@]}" mkdir -p /etc/munge
        "${as_root[@]}" mungekey --create --keyfile="$key" 2>/dev/null \
            || "${as_root[@]}" dd if=/dev/urandom of="$key" bs=1024 count=1 status=none
        "${as_root[@]}" chown munge:munge "$key"
        "${as_root[@]}" chmod 0400 "$key"
    fi
    "${as_root[@]}" mkdir -p /run/munge /var/lib/munge /var/log/munge
    "${as_root[@]}" chown munge:munge /run/munge /var/lib/munge /var/log/munge
    "${as_root[@]}" chmod 0755 /run/munge
    # munged forks; it is stopped again at exit through its pid file.
    if [ "$(id -u)" -eq 0 ]; then runuser -u munge -- munged; else sudo -n -u munge munged; fi
    munged_pid=$(cat /run/munge/munged.pid)
    munge -n | unmunge >/dev/null || { echo "munge does not work: see /var/log/munge/munged.log" >&2; exit 1; }
    echo "   started munged (pid $munged_pid)"
fi

# ---------------------------------------------------------------------------------------------------
echo "== single-node slurm cluster"
# Short path: slurmd makes Unix sockets in its spool dir (108-byte limit). Must not be mounted noexec:
# slurmd runs the batch scripts from its spool dir.
work=$(mktemp -d "${TMPDIR:-/tmp}/capsim-slurm.XXXXXX")
chmod 0755 "$work"
mkdir -p "$work"/{state,spool,log,out}
host=$(hostname -s)
cpus=$(nproc)
mem_mb=$(awk '/^MemTotal:/ { printf "%d", $2 / 1024 * 0.9 }' /proc/meminfo)
port=${SLURM_CI_PORT:-16817}
export SLURM_CONF="$work/slurm.conf"
cat >"$SLURM_CONF" <<EOF
# Throwaway single-node cluster written by .ci/slurm.sh
ClusterName=capsim-ci
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
AuthType=auth/munge
CredType=cred/munge
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/log/slurmctld.log
SlurmdLogFile=$work/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
MailProg=/bin/true
MpiDefault=none
# No cgroups: track job processes through /proc, bind nothing.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerType=sched/backfill
# Allocate cores, not whole nodes, so several array tasks run at once.
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
# The node line below is authoritative even where the hardware is laid out differently (hyperthreads).
SlurmdParameters=config_overrides
ReturnToService=2
# Keep finished jobs visible to scontrol for 10 minutes (there is no accounting database).
MinJobAge=600
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus Sockets=1 CoresPerSocket=$cpus ThreadsPerCore=1 RealMemory=$mem_mb State=UNKNOWN
PartitionName=ci Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
echo "   $host: $cpus CPUs, RealMemory=$mem_mb MB, ports $port-$((port + 1)), in $work"

# -D: stay in the foreground (we keep the pids), -c: start from a clean state.
"${as_root[@]}" slurmctld -D -c -f "$SLURM_CONF" >"$work/log/slurmctld.stderr" 2>&1 &
slurmctld_pid=$!
"${as_root[@]}" slurmd -D -N "$host" -f "$SLURM_CONF" >"$work/log/slurmd.stderr" 2>&1 &
slurmd_pid=$!

deadline=$(( $(date +%s) + 60 ))
until [ "$(sinfo -h -n "$host" -o %t 2>/dev/null)" = idle ]; do
    for pid in $slurmctld_pid $slurmd_pid; do
        [ -d "/proc/$pid" ] || { echo "a slurm daemon exited while starting (pid $pid)" >&2; exit 1; }
    done
    if [ "$(date +%s)" -gt "$deadline" ]; then
        echo "node $host not idle after 60 s:" >&2
        sinfo -N -l >&2 || true
        scontrol show node "$host" >&2 || true
        exit 1
    fi
    sleep 1
done
echo "   node $host idle after $(elapsed)"

# ---------------------------------------------------------------------------------------------------
# shard_test NAME SHARDS COMMAND MODEL [CAPSIM ARGS...]: submit COMMAND as an array of SHARDS shards
# plus the merge job with deploy/slurm/submit.sh, wait for them, check every exit code, then run
# COMMAND whole and compare the JSON byte for byte.
timeout=${SLURM_CI_TIMEOUT:-300}
shard_test() {
    local name=$1 n=$2 command=$3 model=$4
    shift 4
    local out="$work/out/$name" ext=json t0 ids now last= failed= code state i
    [ "$command" = run ] && ext=shard
    [ "$command" = size ] && ext=sizing.json
    echo "== $name: $n-shard job array of capsim $command $model $*"
    t0=$(date +%s)
    ids=$(bash deploy/slurm/submit.sh -n "$n" -c 1 -o "$out" "$command" "$model" -- "$@")
    eval "$ids"   # array_job=... merge_job=...
    job_ids="$job_ids $array_job $merge_job"
    echo "   array job $array_job, merge job $merge_job"
    while [ -n "$(squeue -h -j "$array_job,$merge_job" -o %i 2>/dev/null)" ]; do
        if [ $(( $(date +%s) - t0 )) -gt "$timeout" ]; then
            echo "the jobs did not finish within $timeout s:" >&2
            squeue >&2
            exit 1
        fi
        now=$(squeue -h -j "$array_job,$merge_job" -o '%i:%t' 2>/dev/null | tr '\n' ' ')
        [ "$now" != "$last" ] && echo "   $(( $(date +%s) - t0 )) s: $now"
        last=$now
        sleep 1
    done
    echo "   jobs finished after $(( $(date +%s) - t0 )) s"

    for i in $(seq "$n"); do
        code=$(cat "$out/status/part-$i.exit" 2>/dev/null || echo missing)
        [ "$code" = 0 ] || { echo "array task $i: exit code $code" >&2; failed=1; }
        [ -s "$out/part-$i.$ext" ] || { echo "array task $i: no $out/part-$i.$ext" >&2; failed=1; }
    done
    state=$(scontrol show job "$merge_job" | grep -o 'JobState=[A-Z_]*' | head -n 1)
    code=$(cat "$out/status/merge.exit" 2>/dev/null || echo missing)
    echo "   merge job: $state, exit code $code"
    [ "$state" = JobState=COMPLETED ] && [ "$code" = 0 ] || failed=1
    [ -s "$out/merged.json" ] || { echo "no $out/merged.json" >&2; failed=1; }
    [ -z "$failed" ] || exit 1

    t0=$(date +%s)
    "$CAPSIM" "$command" "$model" "$@" --json "$out/whole.json" --quiet
    echo "   the same $command whole: $(( $(date +%s) - t0 )) s"
    if ! cmp "$out/whole.json" "$out/merged.json"; then
        echo "the merged $command differs from the whole one:" >&2
        diff -u "$out/whole.json" "$out/merged.json" | head -n 60 >&2
        exit 1
    fi
    echo "   merged.json of the $n shards is byte-identical to the whole $command ($(wc -c <"$out/merged.json") bytes)"
}

# Case 3's latency ladder: the sweep declared in the model, 11 points.
shard_test ladder 4 sweep models/db-migration.json
# A run split by replications (a few seconds).
shard_test replications 3 run models/quickstart.json --replications 8 --duration 20m

# A sizing: an M/M/c queue (300/s, 10 ms each, p90 <= 30 ms), where Erlang C needs 5 workers. Its
# 2 shards must run at once (the node has $cpus CPUs) and exchange each evaluation's parts.
# --exchange-wait comes through $CAPSIM_ARGS, which both jobs read when given no extra arguments and
# the whole run ignores: a shard that waits 2 minutes for the other fails before the jobs' timeout
# (and the merge job, which replaces it by 1m, is tested to drop it).
cat >"$work/mmc-size.json" <<'EOF'
{"name":"mmc-size","duration":"3m","warmup":"20s","replications":6,"seed":4,
 "clients":{"arrivals":{"open":{"rate":"300/s"},"calls":"servers.serve"}},
 "services":{"servers":{"workers":4,"endpoints":{"serve":[{"cpu":"exp(10ms)"}]}}},
 "slos":{"servers.serve":{"p90":"30ms"}},
 "sizing":{"currency":"EUR","knobs":{"services.servers.workers":{"values":"1..12","cost_per_hour":0.5}}}}
EOF
CAPSIM_ARGS="--exchange-wait 2m" shard_test size 2 size "$work/mmc-size.json"
for part in "$work"/out/size/part-*.sizing.json; do
    cmp "$part" "$work/out/size/merged.json" || { echo "$part differs from merged.json" >&2; exit 1; }
done
if ! grep -A1 '"path": "services.servers.workers"' "$work/out/size/merged.json" | grep -q '"value": "5"'; then
    echo "the sizing did not answer 5 workers:" >&2
    head -n 30 "$work/out/size/merged.json" >&2
    exit 1
fi
echo "   sized at 5 workers, as Erlang C says; $(ls "$work/out/size/exchange" | wc -l) evaluations exchanged"
