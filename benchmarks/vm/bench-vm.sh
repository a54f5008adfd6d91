#!/usr/bin/env bash
# make bench-vm: boots the QEMU guest once (vm/run.sh, busybox init) and runs VmHeartbeat
# in it as root: issue 17's heartbeat figures that need a pure cgroup v2, real leaves and
# an fd limit of 65 536 (see vm/README.md, "The heartbeat bench").
# Usage: benchmarks/vm/bench-vm.sh CACHE_DIR OUT.json
# Writes OUT.json: VmHeartbeat's figures; or {"not_run": WHY} when QEMU cannot run here
# (exit 0: the report says "not run" and why) or when the guest run failed (exit 1).
# Needs: make bench-build (benchmarks.jar, pread-floor); the image is built by vm/build.sh.
# Env: BENCH_VM_ARGS "SECONDS ROUNDS WARMUP_S" (default "0.5 1 10": per measurement ROUNDS
#      rounds of SECONDS after a warm-up; the JIT warm-up before the first), VM_MEM (3G),
#      BENCH_VM_TIMEOUT (2400 s, the whole guest run), VM_SMP (1: the reading thread's CPU
#      time is then its own, not the other vCPU's too), JAVA_HOME (else bin/find-jdk).
set -euo pipefail
[[ $# -eq 2 ]] || { echo "usage: $0 CACHE_DIR OUT.json" >&2; exit 2; }
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
mkdir -p "$1" "$(dirname "$2")"
CACHE=$(cd "$1" && pwd)
OUT=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
rm -f "$OUT"

not_run() {   # not_run EXIT WHY: the report's "not run" line, loud on the console too
    echo "bench-vm: NOT RUN: $2" >&2
    local why=${2//\\/\\\\}
    printf '{"not_run": "%s"}\n' "${why//\"/\\\"}" >"$OUT"
    exit "$1"
}
mkdir -p "$CACHE/runs"
RUN_DIR=$(mktemp -d "$CACHE/runs/bench-vm-$(date +%Y%m%d-%H%M%S).XXXXXX")
if ! "$REPO/vm/build.sh" "$CACHE" >"$RUN_DIR/build.log" 2>&1; then
    not_run 0 "QEMU cannot run here: the guest image could not be built (vm/build.sh $CACHE, log: $RUN_DIR/build.log)"
fi
if ! qemu-system-x86_64 --version >/dev/null 2>&1; then
    not_run 0 "QEMU cannot run here: qemu-system-x86_64 does not start"
fi
JAVA_HOME=${JAVA_HOME:-$("$REPO/bin/find-jdk" 2>/dev/null || true)}
[[ -n $JAVA_HOME && -x $JAVA_HOME/bin/java ]] || not_run 1 "no JDK: set JAVA_HOME (a JDK >= 22)"
java=$(readlink -f "$JAVA_HOME/bin/java")
jar=$REPO/benchmarks/target/benchmarks.jar floor=$REPO/benchmarks/c/build/pread-floor
for f in "$java" "$jar" "$floor"; do
    [[ -e $f ]] || not_run 1 "missing $f (make bench-build)"
done
read -r secs rounds warmup <<<"${BENCH_VM_ARGS:-0.5 1 10}"
host="host: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) at the start; guest: ${VM_SMP:-1} vCPU, ${VM_MEM:-3G}"

script=$RUN_DIR.sh
trap 'rm -f "$script"' EXIT
printf '#!/bin/sh\nexec bash %q %q %q %q %q %q %q %q\n' "$REPO/benchmarks/vm/heartbeat-guest.sh" \
    "$java" "$jar" "$floor" "$secs" "$rounds" "$warmup" "$host" >"$script"
set +e
VM_SMP=${VM_SMP:-1} VM_MEM=${VM_MEM:-3G} VM_RUN_DIR=$RUN_DIR "$REPO/vm/run.sh" "$CACHE" "$script" "${BENCH_VM_TIMEOUT:-2400}"
rc=$?
set -e
if [[ $rc -ne 0 || ! -s $RUN_DIR/latest-vm.json ]]; then
    not_run 1 "the guest run failed (vm/run.sh exit $rc; console: $RUN_DIR/console.log)"
fi
cp "$RUN_DIR/latest-vm.json" "$OUT"
mkdir -p "$REPO/benchmarks/results/tmp"
cp "$RUN_DIR/console.log" "$REPO/benchmarks/results/tmp/bench-vm-console.log"
echo "bench-vm: written $OUT (the guest's console: benchmarks/results/tmp/bench-vm-console.log)"
rm -rf "$RUN_DIR"
