#!/usr/bin/env bash
# Check deploy/kubernetes/capsim.yaml without a cluster; exit non-zero on any failure.
#
#  (a) Validates every document offline against the Kubernetes API schema (kubernetes-validate, which
#      bundles the schemas; strict: an unknown field is an error), for each version in $K8S_VERSIONS.
#  (b) Runs the manifest's own commands locally, as the cluster would: for each index of the Indexed Job
#      its container command with the container's env and JOB_COMPLETION_INDEX (all indexes at once, as
#      parallelism does), with Kubernetes' $(VAR) expansion, the volume mount paths (/model, /work)
#      remapped to directories under target/kubernetes-test, and `capsim` resolved to $CAPSIM; then the
#      merge Job's initContainer (which must give up with no parts and a zero timeout, and pass once the
#      parts exist) and its command; then checks the merged JSON is byte-identical (cmp) to the whole
#      `capsim sweep MODEL --json whole.json`. Done for the ConfigMap's placeholder model (also with the
#      `capsim run` variant the manifest's comments describe) and for models/db-migration.json (11 points,
#      about 30 s whole on 2 cores; its whole sweep runs alongside the shards). About 75 s on an idle machine.
#
# Needs Python 3 (venv, pip) and a built capsim: $CAPSIM, default target/release/capsim (not built here).
# The virtualenv (target/kubernetes-venv) is reused; the test directory is recreated on every run.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)

manifest=deploy/kubernetes/capsim.yaml
KUBERNETES_VALIDATE_VERSION=1.37.0
PYYAML_VERSION=6.0.4
# 1.37: the newest schema kubernetes-validate 1.37.0 bundles. 1.33: the first release where
# backoffLimitPerIndex and podFailurePolicy's FailIndex are GA (older managed clusters).
K8S_VERSIONS=${K8S_VERSIONS:-"1.33.0 1.37.0"}
CAPSIM=${CAPSIM:-target/release/capsim}
venv=target/kubernetes-venv
work=target/kubernetes-test
py=${PYTHON:-python3}

[ -x "$CAPSIM" ] || { echo "capsim binary not found at $CAPSIM (set CAPSIM, or cargo build --release)" >&2; exit 2; }
CAPSIM=$(cd "$(dirname "$CAPSIM")" && pwd)/$(basename "$CAPSIM")

# ---------------------------------------------------------------------------------------------- venv
mkdir -p target
if [ ! -x "$venv/bin/python" ]; then
    echo "== creating virtualenv $venv"
    "$py" -m venv "$venv"
fi
want="kubernetes-validate==$KUBERNETES_VALIDATE_VERSION PyYAML==$PYYAML_VERSION"
stamp="$venv/.kubernetes.installed"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "== pip install $want"
    # shellcheck disable=SC2086
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check $want
    echo "$want" > "$stamp"
fi
vpy="$venv/bin/python"

# ------------------------------------------------------------------------------- (a) schema validation
ndocs=$("$vpy" -c 'import sys, yaml; print(sum(1 for d in yaml.safe_load_all(open(sys.argv[1])) if d))' "$manifest")
# kubernetes-validate only warns (exit 0) about a kind/apiVersion it has no schema for: any line that
# is not an INFO "passed" counts as a failure here, and every document must have passed.
validate() { # FILE VERSION -> prints its output; returns 0 only when every document passed
    local out rc=0
    out=$("$venv/bin/kubernetes-validate" --strict --kubernetes-version "$2" "$1" 2>&1) || rc=$?
    printf '%s\n' "$out" | sed 's/^/   /'
    [ "$rc" -eq 0 ] || return 1
    ! printf '%s\n' "$out" | grep -qv '^INFO .* passed for resource ' || return 1
    [ "$(printf '%s\n' "$out" | grep -c '^INFO .* passed for resource ')" -eq "$ndocs" ]
}
for k in $K8S_VERSIONS; do
    echo "== kubernetes-validate $KUBERNETES_VALIDATE_VERSION --strict --kubernetes-version $k $manifest"
    validate "$manifest" "$k" || { echo "FAIL: $manifest does not validate against Kubernetes $k" >&2; exit 1; }
done

rm -rf "$work"
mkdir -p "$work"
# The validation must be able to fail: an unknown field in a Job, and an unknown kind, are rejected.
sed 's/^\(      restartPolicy\): Never/\1Typo: Never/' "$manifest" > "$work/unknown-field.yaml"
sed '0,/^kind: Job$/s//kind: Jobs/' "$manifest" > "$work/unknown-kind.yaml"
for bad in unknown-field unknown-kind; do
    cmp -s "$manifest" "$work/$bad.yaml" && { echo "FAIL: could not make the $bad mutant" >&2; exit 1; }
    if validate "$work/$bad.yaml" "${K8S_VERSIONS##* }" > "$work/$bad.out"; then
        cat "$work/$bad.out"; echo "FAIL: a manifest with an ${bad/-/ } was accepted" >&2; exit 1
    fi
    echo "   (a copy with an ${bad/-/ } is rejected, as it should be)"
done

# ------------------------------------------------------------------------------- (b) run the commands
for sub in sweep run; do
    "$CAPSIM" "$sub" --help | grep -- '--shard' | grep -q auto \
        || { echo "FAIL: $CAPSIM $sub has no '--shard auto' (the manifest needs it): rebuild capsim" >&2; exit 1; }
done

# plan ROOT VARIANT: lays out the volumes under ROOT (the ConfigMap's files in ROOT/model, the PVC as
# ROOT/work) and prints bash assignments: completions, the shard commands and envs per index, the wait and
# merge commands and envs, each with $(VAR) expanded as the kubelet does and mount paths remapped, and
# merged (the merge's --json file). VARIANT "run" first applies the changes the manifest's comments give
# for `capsim run` (the lines "capsim-sweep's command:", "the initContainer's env:", "capsim-merge's command:").
plan() {
    "$vpy" - "$manifest" "$1" "$2" <<'PY'
import os, re, shlex, sys, yaml

manifest, root, variant = sys.argv[1], os.path.abspath(sys.argv[2]), sys.argv[3]
text = open(manifest).read()
docs = [d for d in yaml.safe_load_all(text) if d]

def one(pred, what):
    found = [d for d in docs if pred(d)]
    if len(found) != 1:
        sys.exit(f"expected one {what} in {manifest}, found {len(found)}")
    return found[0]

indexed = one(lambda d: d["kind"] == "Job" and d["spec"].get("completionMode") == "Indexed", "Indexed Job")
merge = one(lambda d: d["kind"] == "Job" and d["spec"].get("completionMode") != "Indexed", "merge Job")
configmaps = {d["metadata"]["name"]: d for d in docs if d["kind"] == "ConfigMap"}

def expand(s, env):
    """Kubernetes' $(VAR) expansion of command, args and env values: $(NAME) -> the value of NAME when
    the container defines it (else left as is), $$ -> $ (k8s.io/kubernetes third_party/forked/golang/expansion)."""
    out, i = [], 0
    while i < len(s):
        if s[i] == "$" and i + 1 < len(s):
            nxt = s[i + 1]
            if nxt == "$":
                out.append("$"); i += 2; continue
            if nxt == "(":
                close = s.find(")", i + 2)
                if close < 0:
                    out.append("$("); i += 2; continue
                name = s[i + 2:close]
                out.append(env[name] if name in env else "$(" + name + ")")
                i = close + 1; continue
            out.append("$" + nxt); i += 2; continue
        out.append(s[i]); i += 1
    return "".join(out)

def pod_volumes(job):
    """Each volume of the pod as a local directory, filled like the cluster would."""
    local = {}
    for v in job["spec"]["template"]["spec"].get("volumes", []):
        d = os.path.join(root, v["name"])
        os.makedirs(d, exist_ok=True)
        if "configMap" in v:
            cm = configmaps[v["configMap"]["name"]]
            items = v["configMap"].get("items") or [{"key": k, "path": k} for k in cm.get("data", {})]
            for it in items:
                path = os.path.join(d, it["path"])
                if not os.path.exists(path):
                    with open(path, "w") as f:
                        f.write(cm["data"][it["key"]])
        elif "persistentVolumeClaim" not in v:
            sys.exit(f"volume {v['name']}: only configMap and persistentVolumeClaim volumes are emulated")
        local[v["name"]] = d
    return local

def command(job, container, extra_env):
    local = pod_volumes(job)
    env = {}
    for e in container.get("env", []):
        if "value" not in e:
            sys.exit(f"env {e['name']}: only plain values are emulated")
        env[e["name"]] = expand(e["value"], env)
    env.update(extra_env)
    argv = [expand(a, env) for a in container["command"] + container.get("args", [])]
    if argv[:2] != ["sh", "-c"] or len(argv) != 3:
        sys.exit(f"container {container['name']}: expected command [sh, -c, SCRIPT]")
    script = argv[2]
    for m in container.get("volumeMounts", []):
        if m["name"] not in local:
            sys.exit(f"container {container['name']}: volumeMount {m['name']} names no volume of the pod")
    mounts = {m["mountPath"].rstrip("/"): local[m["name"]] for m in container.get("volumeMounts", [])}
    if mounts:
        # Mount paths where a path starts (not inside another word), longest first, in one pass.
        alts = "|".join(re.escape(p) for p in sorted(mounts, key=len, reverse=True))
        script = re.sub(r"(?<![\w./-])(" + alts + r")(?=/|\b|$)", lambda m: mounts[m.group(1)], script)
    return script, env

def emit(name, script, env):
    print(f"{name}_cmd={shlex.quote(script)}")
    print(f"{name}_env=(" + " ".join(shlex.quote(f"{k}={v}") for k, v in env.items()) + ")")

spec = indexed["spec"]
merge_pod = merge["spec"]["template"]["spec"]
if variant == "run":
    def comment(label):
        found = re.findall(r"^#\s+" + re.escape(label) + r"\s+(.+?)\s*$", text, re.M)
        if len(found) != 1:
            sys.exit(f"expected one comment line '{label} ...' in {manifest}, found {len(found)}")
        return found[0]
    spec["template"]["spec"]["containers"][0]["command"][2] = comment("capsim-sweep's command:")
    name, value = comment("the initContainer's env:").split(":", 1)
    (entry,) = [e for e in merge_pod["initContainers"][0]["env"] if e["name"] == name.strip()]
    entry["value"] = yaml.safe_load(value)
    merge_pod["containers"][0]["command"][2] = comment("capsim-merge's command:")
n = spec["completions"]
shards_env = [int(e["value"]) for c in spec["template"]["spec"]["containers"]
              for e in c.get("env", []) if e["name"] == "CAPSIM_SHARDS"]
wait_env = [int(e["value"]) for c in merge_pod.get("initContainers", [])
            for e in c.get("env", []) if e["name"] == "CAPSIM_SHARDS"]
if spec.get("parallelism") != n or shards_env != [n] or wait_env != [n]:
    sys.exit(f"completions ({n}), parallelism ({spec.get('parallelism')}), CAPSIM_SHARDS of the shards "
             f"({shards_env}) and of the merge's initContainer ({wait_env}) must all be equal")
print(f"completions={n}")
(container,) = spec["template"]["spec"]["containers"]
for i in range(n):
    emit(f"shard_{i}", *command(indexed, container, {"JOB_COMPLETION_INDEX": str(i)}))
(init,) = merge_pod["initContainers"]
emit("wait", *command(merge, init, {}))
(main,) = merge_pod["containers"]
merge_cmd, merge_env = command(merge, main, {})
emit("merge", merge_cmd, merge_env)
json_out = re.findall(r"--json (\S+)", merge_cmd)
if len(json_out) != 1:
    sys.exit(f"expected one --json FILE in the merge's command: {merge_cmd}")
print(f"merged={shlex.quote(json_out[0])}")
PY
}

# A directory whose `capsim` is $CAPSIM, first on PATH for every command below.
bin="$work/bin"
mkdir -p "$bin"
ln -sf "$CAPSIM" "$bin/capsim"

show() { # NAME ENV... -- SCRIPT: print a command as it is run
    local name=$1; shift
    local envs=()
    while [ "$1" != -- ]; do envs+=("$1"); shift; done
    shift
    echo "   [$name] env ${envs[*]} sh -c '$1'"
}

exercise() { # LABEL VARIANT MODEL: run the manifest's commands with MODEL (default: the ConfigMap's) as
    # /model/model.json, then compare the merge's output with `capsim VARIANT MODEL --json whole.json`
    # (or, when the whole run was started already, wait for it: its pid in $whole_pid, output in $whole_json).
    local label=$1 variant=$2 model=${3:-} root="$work/$1"
    echo "== $label: the manifest's commands ($variant), with ${model:-the ConfigMap placeholder} as /model/model.json"
    mkdir -p "$root/model"
    if [ -n "$model" ]; then cp "$model" "$root/model/model.json"; fi
    local planfile="$root/plan.sh"
    plan "$root" "$variant" > "$planfile"
    # shellcheck disable=SC1090
    source "$planfile"
    local pathenv="PATH=$PWD/$bin:$PATH"

    # The merge's wait, before any part exists, with no time to wait: it must give up.
    if [ -z "${wait_shown:-}" ]; then
        show "wait, WAIT_TIMEOUT_SECONDS=0" "${wait_env[@]}" -- "$wait_cmd"
        wait_shown=1
    else
        echo "   [wait, WAIT_TIMEOUT_SECONDS=0] env ${wait_env[*]} sh -c '(the script above, for these paths)'"
    fi
    if env "${wait_env[@]}" WAIT_TIMEOUT_SECONDS=0 "$pathenv" sh -c "$wait_cmd" > "$root/wait0.log" 2>&1; then
        cat "$root/wait0.log"; echo "FAIL: the wait passed with no parts" >&2; exit 1
    fi
    echo "   -> $(cat "$root/wait0.log") (exit 1, as it should)"

    # The wait polling every second while the shards run: it must pass once all parts exist.
    echo "   [wait, while the shards run] the same, with POLL_SECONDS=1 WAIT_TIMEOUT_SECONDS=600"
    env "${wait_env[@]}" POLL_SECONDS=1 WAIT_TIMEOUT_SECONDS=600 "$pathenv" sh -c "$wait_cmd" > "$root/wait.log" 2>&1 &
    local waiter=$!

    local t0 pids=() i v
    t0=$(date +%s)
    for ((i = 0; i < completions; i++)); do
        v="shard_${i}_env[@]"; local -a senv=("${!v}")
        v="shard_${i}_cmd"
        show "index $i" "${senv[@]}" -- "${!v}"
        env "${senv[@]}" "$pathenv" sh -c "${!v}" > "$root/shard-$i.log" 2>&1 &
        pids+=($!)
    done
    local failed=0
    for ((i = 0; i < completions; i++)); do
        if ! wait "${pids[$i]}"; then
            echo "FAIL: index $i exited non-zero:" >&2; sed 's/^/     /' "$root/shard-$i.log" >&2; failed=1
        fi
    done
    [ "$failed" -eq 0 ] || { kill "$waiter" 2>/dev/null || true; exit 1; }
    echo "   -> $completions shards done in $(( $(date +%s) - t0 )) s: $(cd "$root/work/parts" && ls | tr '\n' ' ')"
    if ! wait "$waiter"; then
        echo "FAIL: the wait did not pass once the parts existed:" >&2; cat "$root/wait.log" >&2; exit 1
    fi
    echo "   -> wait: $(cat "$root/wait.log")"

    show merge "${merge_env[@]}" -- "$merge_cmd"
    env "${merge_env[@]}" "$pathenv" sh -c "$merge_cmd" > "$root/merge.log" 2>&1 \
        || { echo "FAIL: merge exited non-zero:" >&2; cat "$root/merge.log" >&2; exit 1; }
    [ -s "$merged" ] && [ -s "$root/work/report/report.html" ] \
        || { echo "FAIL: merge wrote no $merged or report/report.html" >&2; exit 1; }
    echo "   -> $merged, $root/work/report/: $(cd "$root/work/report" && ls | tr '\n' ' ')"

    if [ -z "${whole_pid:-}" ]; then
        whole_json="$root/whole.json"
        echo "   [whole] capsim $variant $root/model/model.json --json $whole_json"
        "$CAPSIM" "$variant" "$root/model/model.json" --json "$whole_json" > "$root/whole.log" 2>&1 \
            || { echo "FAIL: the whole $variant exited non-zero:" >&2; cat "$root/whole.log" >&2; exit 1; }
    else
        wait "$whole_pid" || { echo "FAIL: the whole $variant exited non-zero:" >&2; cat "$whole_log" >&2; exit 1; }
        whole_pid=
    fi
    echo "   [cmp] cmp $merged $whole_json"
    cmp "$merged" "$whole_json"
    echo "   -> byte-identical to the whole $variant"
}

whole_pid=
exercise placeholder-sweep sweep
exercise placeholder-run run

# db-migration: its whole sweep (the reference, ~30 s on 2 cores) runs in the background meanwhile.
whole_json="$work/db-migration-whole.json" whole_log="$work/db-migration-whole.log"
echo "== (background) capsim sweep models/db-migration.json --json $whole_json"
"$CAPSIM" sweep models/db-migration.json --json "$whole_json" > "$whole_log" 2>&1 &
whole_pid=$!
trap 'kill "$whole_pid" 2>/dev/null || true' EXIT
exercise db-migration sweep models/db-migration.json

echo "kubernetes: manifest valid (strict) against Kubernetes $K8S_VERSIONS; its commands, sweep and run, sharded and merged byte-identically, in $(( $(date +%s) - start )) s"
