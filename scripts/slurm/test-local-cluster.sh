#!/usr/bin/env bash
# The cluster path against a real Slurm, on this machine: a single-node cluster (Debian's
# slurm-wlm, slurmctld and slurmd on localhost, everything under a scratch folder) runs a
# tiny sweep of scenarios/minimal.toml as a 4-task job array (scripts/slurm/sweep.sbatch)
# and a merge that depends on it (scripts/slurm/merge.sbatch); the merged CSVs must be
# byte for byte those of the same sweep run here without Slurm (cmp).
#
# Installs slurm-wlm and munge with apt-get when missing (as root). Writes nothing outside
# its scratch folder (no /etc/slurm): SLURM_CONF and -f point at a generated slurm.conf.
# The daemons are started from here and stopped by their process ids from an exit trap.
# See /work/shared/SLURM-NOTES.md for why each setting is what it is (no cgroups in this
# sandbox: proctrack/linuxproc, task/none; auth/none for a throwaway node).
#
# Usage: scripts/slurm/test-local-cluster.sh        (NORTHBOUND=path/to/northbound to pick
# the binary; by default target/debug/northbound, built if missing)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
started=$(date +%s.%N)
say() { printf 'test-local-cluster: %s\n' "$*"; }
elapsed() { awk -v a="$started" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }

if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v sbatch >/dev/null \
    || ! command -v munged >/dev/null; then
    if [ "$(id -u)" != 0 ]; then
        say "slurm-wlm and munge are not installed and this is not root: install them, or run as root"
        exit 1
    fi
    say "installing slurm-wlm and munge"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null
    say "installed in $(elapsed) s"
fi

bin=${NORTHBOUND:-$root/target/debug/northbound}
if [ ! -x "$bin" ]; then
    say "building $bin"
    (cd "$root" && cargo build -q)
fi
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")

scratch=$(mktemp -d "${TMPDIR:-/tmp}/northbound-slurm.XXXXXX")
mkdir -p "$scratch"/{state,spool,work}
pids=()
export SLURM_CONF=$scratch/slurm.conf

stop() {
    local status=$?
    if [ ${#pids[@]} -gt 0 ]; then
        scontrol shutdown >/dev/null 2>&1 || true
        for _ in $(seq 50); do
            local alive=0
            for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
            [ $alive = 0 ] && break
            sleep 0.1
        done
        for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
        for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    fi
    if [ $status != 0 ]; then
        say "FAILED after $(elapsed) s; logs:"
        for f in "$scratch"/*.log "$scratch"/work/slurm-*.out; do
            [ -f "$f" ] && { echo "--- $f"; tail -n 30 "$f"; }
        done
    fi
    rm -rf "$scratch"
    exit $status
}
trap stop EXIT

# Ports of our own, so that another Slurm on the machine is left alone.
base=$((20000 + $$ % 20000))
node=$(slurmd -C 2>/dev/null | head -n 1 | sed -E 's/^NodeName=[^ ]+ //; s/ *RealMemory=[0-9]+//')
cat > "$SLURM_CONF" <<CONF
ClusterName=northbound-test
SlurmctldHost=localhost
SlurmctldPort=$base
SlurmdPort=$((base + 1))
SlurmUser=$(id -un)
AuthType=auth/none
CredType=cred/none
StateSaveLocation=$scratch/state
SlurmdSpoolDir=$scratch/spool
SlurmctldPidFile=$scratch/slurmctld.pid
SlurmdPidFile=$scratch/slurmd.pid
SlurmctldLogFile=$scratch/slurmctld.log
SlurmdLogFile=$scratch/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerParameters=batch_sched_delay=0
DependencyParameters=kill_invalid_depend
ReturnToService=2
MpiDefault=none
NodeName=localhost $node State=UNKNOWN
PartitionName=test Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONF

slurmctld -D -f "$SLURM_CONF" >"$scratch/slurmctld.out" 2>&1 &
pids+=($!)
slurmd -D -N localhost -f "$SLURM_CONF" >"$scratch/slurmd.out" 2>&1 &
pids+=($!)
for i in $(seq 150); do
    state=$(sinfo -h -o %T 2>/dev/null | head -n 1 || true)
    [ "$state" = idle ] && break
    [ "$i" = 150 ] && { say "the node did not come up (state: ${state:-none})"; exit 1; }
    sleep 0.2
done
say "cluster up (node: $node) after $(elapsed) s"

sc=$root/scenarios/minimal.toml
args=(--vary 'places["Roxham Road"].detection=0.5..0.99' --vary behaviour.give_up_rate=0.001..0.01
      --design sobol --points 4 --replicates 2)
cd "$scratch/work"
export NORTHBOUND=$bin
jid=$(sbatch --parsable --array=1-4 --cpus-per-task=1 -o 'slurm-%A_%a.out' \
    "$root/scripts/slurm/sweep.sbatch" "$sc" "${args[@]}" --out sw)
mid=$(sbatch --parsable --dependency=afterok:"$jid" -o 'slurm-%j-merge.out' \
    "$root/scripts/slurm/merge.sbatch" sw)
say "submitted the array $jid (4 shards) and the merge $mid"
for i in $(seq 1200); do
    left=$(squeue -h -j "$jid,$mid" 2>/dev/null | wc -l)
    [ "$left" = 0 ] && break
    [ "$i" = 1200 ] && { say "the jobs did not finish in 10 minutes"; squeue; exit 1; }
    sleep 0.5
done
merge_state=$(scontrol show job "$mid" | sed -nE 's/.*JobState=([A-Z_]+).*/\1/p' | head -n 1)
array_states=$(scontrol show job "$jid" | sed -nE 's/.*JobState=([A-Z_]+).*/\1/p' | sort | uniq -c | tr -s ' ' | tr '\n' ';')
say "array: $array_states merge: $merge_state after $(elapsed) s"
[ "$merge_state" = COMPLETED ] || { say "the merge job did not complete"; exit 1; }
[ -f sw/manifest.json ] || { say "the merge wrote no result"; exit 1; }

"$bin" sweep "$sc" "${args[@]}" --out local -q
for f in points.csv outcomes.csv series.csv sensitivity.csv places.csv policies.csv scenario.toml; do
    cmp "local/$f" "sw/$f"
done
say "merged result identical to the local run ($(ls sw | wc -l) files; $(($(wc -l < sw/outcomes.csv) - 1)) runs); all in $(elapsed) s"
