#!/usr/bin/env bash
# Boot the QEMU guest built by vm/build.sh and run one script in it as root.
# Usage: vm/run.sh CACHE_DIR SCRIPT [TIMEOUT_S]
#   The guest sees the host's / read-only (writes go to a tmpfs overlay) and
#   a fresh run dir read-write at /vmrun; SCRIPT runs as /vmrun/script.sh with
#   /vmrun as its working directory. Results written under /vmrun stay in the
#   run dir on the host; its path is printed (stderr) at start and end.
#   The run dir is new under CACHE_DIR/runs/, or $VM_RUN_DIR when set (it is
#   created if missing; files already there are visible to the script).
# Exit status: the script's, or 124 on timeout, 125 when the guest wrote no
# exit code (boot failure, crash), 2 on usage errors. Console output goes to
# stdout and to RUN_DIR/console.log.
# Env: VM_ACCEL (default tcg,thread=single; "kvm" where /dev/kvm works),
# VM_SMP (2), VM_MEM (2G), VM_INIT (busybox, the default: vm/init.sh runs the
# script as PID 1's child on a cgroup2 it mounts itself; systemd: the host
# root's systemd boots as PID 1 and runs the script from a oneshot service,
# vm/init-systemd.sh), VM_APPEND (more kernel command line, e.g.
# "systemd.log_level=debug systemd.log_target=console" to watch a boot).
# Why thread=single: with multi-threaded TCG (QEMU 7.2, Debian 12), a JVM in
# the guest crashed about once in ten starts with SIGSEGV (#GP) on the 5-byte
# jmp HotSpot patches over a compiled method's entry, most likely one vCPU
# translating the code while another patched it (cross-modifying code; QEMU
# 8.1 reworked TB page locking).  One TCG thread for both vCPUs serializes the
# two; no crash was seen since, and on these 2-core hosts the suite was no
# slower (132 s vs 141 s).
set -euo pipefail

if [[ $# -lt 2 || $# -gt 3 ]]; then
    echo "usage: $0 CACHE_DIR SCRIPT [TIMEOUT_S]" >&2
    exit 2
fi
CACHE=$(cd "$1" && pwd)
SCRIPT=$2
TIMEOUT_S=${3:-600}

log() { echo "vm-run: $*" >&2; }

case ${VM_INIT:-busybox} in
    busybox) INITRD=initrd.cpio.gz APPEND= ;;
    # PID 1 systemd reads systemd.* from /proc/cmdline, not from its argv (argv only in a container).
    systemd) INITRD=initrd-systemd.cpio.gz APPEND=" systemd.unit=rbee-vm-test.target systemd.show_status=0" ;;
    *) log "VM_INIT=$VM_INIT: expected busybox or systemd"; exit 2 ;;
esac
for f in vmlinux $INITRD scratch.img; do
    if [[ ! -s $CACHE/$f ]]; then
        log "missing $CACHE/$f; run vm/build.sh $1 first"
        exit 2
    fi
done
[[ -f $SCRIPT ]] || { log "no such script: $SCRIPT"; exit 2; }
[[ $TIMEOUT_S =~ ^[0-9]+$ ]] || { log "TIMEOUT_S must be whole seconds"; exit 2; }

if [[ -n ${VM_RUN_DIR:-} ]]; then
    mkdir -p "$VM_RUN_DIR"
    RUN_DIR=$(cd "$VM_RUN_DIR" && pwd)
    rm -f "$RUN_DIR/exit-code" "$RUN_DIR/exit-code.tmp" "$RUN_DIR/console.log"
else
    mkdir -p "$CACHE/runs"
    RUN_DIR=$(mktemp -d "$CACHE/runs/$(date +%Y%m%d-%H%M%S).XXXXXX")
fi
install -m 755 "$SCRIPT" "$RUN_DIR/script.sh"
log "run dir: $RUN_DIR"

# QEMU runs in the background so that signals to this script reach it:
# `timeout` puts itself in its own process group, out of reach of Ctrl-C.
qpid=
cleanup() {
    [[ -n $qpid ]] && kill -0 "$qpid" 2>/dev/null || return 0
    local kids i
    kids=$(pgrep -P "$qpid" || true)   # QEMU, child of timeout
    kill -TERM "$qpid" 2>/dev/null || true   # timeout forwards TERM to QEMU
    for i in 1 2 3 4 5 6 7 8 9 10; do
        kill -0 "$qpid" 2>/dev/null || break
        sleep 0.5
    done
    # shellcheck disable=SC2086
    kill -KILL $kids "$qpid" 2>/dev/null || true
    wait "$qpid" 2>/dev/null || true
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT
trap 'log "terminated"; exit 143' TERM HUP

start=$(date +%s%N)
# snapshot=on: guest writes to the scratch disk go to a temporary overlay,
# so runs never change scratch.img nor see each other's writes.
timeout -k 5 "$TIMEOUT_S" qemu-system-x86_64 \
    -accel "${VM_ACCEL:-tcg,thread=single}" -cpu max -m "${VM_MEM:-2G}" -smp "${VM_SMP:-2}" \
    -display none -no-reboot -nic none -monitor none -parallel none \
    -chardev stdio,id=con,signal=off,logfile="$RUN_DIR/console.log" \
    -serial chardev:con \
    -kernel "$CACHE/vmlinux" -initrd "$CACHE/$INITRD" \
    -append "console=ttyS0 panic=-1 quiet loglevel=3$APPEND${VM_APPEND:+ $VM_APPEND}" \
    -virtfs local,path="$RUN_DIR",mount_tag=vmrun,security_model=none \
    -virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
    -drive file="$CACHE/scratch.img",if=virtio,format=raw,snapshot=on \
    </dev/null &
qpid=$!
set +e
wait "$qpid"
qrc=$?
set -e
qpid=
echo   # the guest's last console line ("reboot: Power down") has no newline
ms=$(( ($(date +%s%N) - start) / 1000000 ))
elapsed=$((ms / 1000)).$((ms % 1000 / 100))

if [[ $qrc -eq 124 || $qrc -eq 137 ]]; then
    log "TIMEOUT after ${TIMEOUT_S}s; run dir: $RUN_DIR"
    exit 124
fi
if [[ ! -s $RUN_DIR/exit-code ]]; then
    log "guest wrote no exit code (boot failure or crash; qemu rc $qrc, ${elapsed}s); see $RUN_DIR/console.log"
    exit 125
fi
rc=$(cat "$RUN_DIR/exit-code")
log "script exit code $rc after ${elapsed}s; run dir: $RUN_DIR"
exit "$rc"
