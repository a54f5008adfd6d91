#!/bin/sh
# Runs in the guest (make vm-fixtures): captures the
# files of a real pure cgroup v2 leaf with cpu, io, memory and pids enabled
# into /vmrun/fixture/, for core/src/test/resources/fixtures/vm-pure-v2/.
# The leaf holds a worker that read 1 MiB from /dev/vda (O_DIRECT), spun for a
# while and touches 32 MiB, under cpu.max 50%, memory.max 256M, pids.max 64
# and io.max 10 MiB/s.
set -eu
helper=${RBEE_REPO:?RBEE_REPO: the repository, as the guest sees it}/native-launcher/build/test/vm-helper
cg=/sys/fs/cgroup/fixture-capture
mkdir -p $cg
echo "+cpu +memory +io +pids" > $cg/cgroup.subtree_control
mkdir -p $cg/leaf
echo "50000 100000" > $cg/leaf/cpu.max
echo 256M > $cg/leaf/memory.max
echo 64 > $cg/leaf/pids.max
echo "$(cat /sys/block/vda/dev) rbps=10485760" > $cg/leaf/io.max
sh -c "echo \$\$ > $cg/leaf/cgroup.procs
       $helper dread /dev/vda 1048576
       timeout 2 $helper spin || true
       exec $helper alloc 32 hold" >/dev/null &
sleep 4
out=/vmrun/fixture
mkdir -p $out
for f in $cg/leaf/*; do
  cat "$f" > "$out/$(basename "$f")" 2>/dev/null || rm -f "$out/$(basename "$f")"   # write-only files
done
uname -r > $out/KERNEL
echo 1 > $cg/leaf/cgroup.kill
sleep 1
rmdir $cg/leaf $cg
ls $out
