#!/usr/bin/env bash
# make gpu-check: on a machine with an NVIDIA GPU, start a worker that holds a known
# amount of GPU memory (gpu-check/alloc.cu, built with nvcc) and print what rbee's
# NVML binding reports for its pid next to nvidia-smi.  Needs only a JDK >= 22,
# nvcc and the driver (no Maven: the gpu package compiles on its own).  Without a
# GPU it says so and exits 0 with "not run".  Not part of `make test`.
#   GPU_CHECK_MIB (default 1536), GPU_CHECK_SECONDS (default 20)
set -euo pipefail
cd "$(dirname "$0")/.."
MIB=${GPU_CHECK_MIB:-1536}
SECS=${GPU_CHECK_SECONDS:-20}
OUT=gpu-check/build

not_run() { echo "gpu-check: not run: $*"; exit 0; }

command -v nvidia-smi >/dev/null 2>&1 || not_run "no nvidia-smi: no NVIDIA driver on this machine"
nvidia-smi -L >/dev/null 2>&1 || not_run "nvidia-smi sees no GPU: $(nvidia-smi -L 2>&1 | head -n1)"
NVCC=$(command -v nvcc || true)
[ -z "$NVCC" ] && [ -x /usr/local/cuda/bin/nvcc ] && NVCC=/usr/local/cuda/bin/nvcc
[ -n "$NVCC" ] || not_run "no nvcc to build gpu-check/alloc.cu"
JDK=$(bin/find-jdk) || not_run "no JDK >= 22"

mkdir -p "$OUT/classes"
"$NVCC" -O2 -o "$OUT/alloc" gpu-check/alloc.cu
"$JDK/bin/javac" -d "$OUT/classes" core/src/main/java/dev/rbee/hive/monitor/gpu/*.java core/src/main/java/dev/rbee/hive/monitor/model/*.java \
  gpu-check/GpuCheckMain.java

"$OUT/alloc" "$MIB" "$SECS" busy > "$OUT/alloc.out" &
APID=$!
trap 'kill "$APID" 2>/dev/null || true; wait "$APID" 2>/dev/null || true' EXIT
for _ in $(seq 1 60); do
  grep -q '^ready' "$OUT/alloc.out" 2>/dev/null && break
  kill -0 "$APID" 2>/dev/null || { echo "gpu-check: alloc failed:"; cat "$OUT/alloc.out"; exit 1; }
  sleep 0.5
done
grep -q '^ready' "$OUT/alloc.out" || { echo "gpu-check: alloc did not get ready in 30 s"; exit 1; }
PID=$(sed -n 's/^ready pid=\([0-9]*\).*/\1/p' "$OUT/alloc.out")
echo "gpu-check: worker pid $PID holds $MIB MiB (cudaMalloc; the CUDA context adds its own)"
echo
rc=0
"$JDK/bin/java" --enable-native-access=ALL-UNNAMED -cp "$OUT/classes" \
  dev.rbee.hive.monitor.gpu.GpuCheckMain "$PID" "$MIB" || rc=$?
echo
echo "nvidia-smi --query-compute-apps=pid,used_memory --format=csv:"
nvidia-smi --query-compute-apps=pid,used_memory --format=csv
echo
nvidia-smi --query-gpu=index,uuid,name,memory.used,memory.total,utilization.gpu,temperature.gpu --format=csv
exit "$rc"
