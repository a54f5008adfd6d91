#!/bin/bash
# Smoke check of the VM harness; runs INSIDE the guest as /vmrun/script.sh:
#   vm/run.sh CACHE_DIR vm/smoke.sh
# Proves: pure cgroup v2 with delegatable controllers, a memory limit can be
# set, the host's JDK runs, the scratch disk is /dev/vda, and a JVM can write
# into /vmrun (the host then finds jvm-write/ in the run dir).
set -euo pipefail

JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
fail=0
check() {   # check DESCRIPTION COMMAND...
    local what=$1; shift
    if "$@"; then echo "smoke: ok   $what"; else echo "smoke: FAIL $what"; fail=1; fi
}

echo "smoke: kernel $(uname -r), $(nproc) cpus, cwd $PWD"
echo "smoke: /proc/self/cgroup: $(cat /proc/self/cgroup)"
echo "smoke: cgroup.controllers: $(cat /sys/fs/cgroup/cgroup.controllers)"
echo "smoke: root subtree_control: $(cat /sys/fs/cgroup/cgroup.subtree_control)"

check "pure cgroup v2 (single 0:: line)" test "$(cat /proc/self/cgroup)" = "0::/"
check "cgroup2 mounted at /sys/fs/cgroup" test "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs
for c in cpu memory io pids; do
    check "controller $c delegated by root" grep -qw "$c" /sys/fs/cgroup/cgroup.subtree_control
done

mkdir -p /sys/fs/cgroup/t/x
echo "+memory +pids" >/sys/fs/cgroup/t/cgroup.subtree_control
check "memory enabled in t" grep -qw memory /sys/fs/cgroup/t/cgroup.subtree_control
echo 50M >/sys/fs/cgroup/t/x/memory.max
check "memory.max of t/x is 50M" test "$(cat /sys/fs/cgroup/t/x/memory.max)" = 52428800
rmdir /sys/fs/cgroup/t/x /sys/fs/cgroup/t

check "lo is up" grep -q '^1$' /sys/class/net/lo/carrier
check "/dev/vda is a block device" test -b /dev/vda
echo "smoke: /dev/vda $(cat /sys/block/vda/dev), $(($(cat /sys/block/vda/size) / 2048)) MiB"
check "direct read of /dev/vda" dd if=/dev/vda of=/dev/null bs=1M count=4 iflag=direct status=none

check "java -version" "$JAVA_HOME/bin/java" -version
# A JVM writing into the 9p run dir through java.nio (as JUnit reports do):
# `jar` is a Java program, so no compile step is needed.
mkdir -p /tmp/jw && echo "written in the guest at $(date -u +%FT%TZ)" >/tmp/jw/hello.txt
rm -rf /vmrun/jvm-write && mkdir /vmrun/jvm-write
check "JVM writes into /vmrun" "$JAVA_HOME/bin/jar" --create --file /vmrun/jvm-write/hello.jar -C /tmp/jw hello.txt
check "JVM-written jar reads back" "$JAVA_HOME/bin/jar" --list --file /vmrun/jvm-write/hello.jar

if [[ $fail -ne 0 ]]; then echo "smoke: FAILED"; exit 1; fi
echo "smoke: all good"
