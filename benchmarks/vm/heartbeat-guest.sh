#!/bin/bash
# Runs INSIDE the QEMU guest as root (benchmarks/vm/bench-vm.sh writes the call):
#   heartbeat-guest.sh JAVA BENCHMARKS_JAR PREAD_FLOOR SECONDS ROUNDS WARMUP_S HOST
# Raises the fd limit (hard and soft: 10 000 workers hold 40 000 fds), runs VmHeartbeat
# into /vmrun/latest-vm.json, then checks that nothing it made is left: no rbee-bench-*
# cgroup or tmpfs tree, no sleeper.
set -u
[[ $# -eq 7 ]] || { echo "usage: $0 JAVA JAR PREAD_FLOOR SECONDS ROUNDS WARMUP_S HOST" >&2; exit 2; }
java=$1 jar=$2 floor=$3
ulimit -Hn 65536 && ulimit -Sn 65536 || exit 1
echo "bench-vm: guest $(uname -r), $(nproc) cpus, $(grep MemTotal /proc/meminfo | tr -s ' '), fds $(ulimit -Sn)/$(ulimit -Hn), JVM starts at $(cut -d' ' -f1 /proc/uptime) s"
mkdir -p /var/tmp/rbee-bench
"$java" --sun-misc-unsafe-memory-access=allow --enable-native-access=ALL-UNNAMED \
    -Djava.io.tmpdir=/var/tmp/rbee-bench -XX:ErrorFile=/vmrun/hs_err_pid%p.log \
    -cp "$jar" dev.rbee.hive.monitor.bench.VmHeartbeat "$floor" /vmrun/latest-vm.json "$4" "$5" "$6" "$7"
rc=$?
echo "bench-vm: VmHeartbeat exit $rc at $(cut -d' ' -f1 /proc/uptime) s"
left=$(ls -d /sys/fs/cgroup/rbee-bench-* /dev/shm/rbee-bench-* 2>/dev/null; pgrep -a -x sleep)
if [[ -n $left ]]; then
    echo "bench-vm: LEFT BEHIND:"; echo "$left"
    [[ $rc -ne 0 ]] || rc=1
fi
exit $rc
