#!/bin/busybox sh
# /init of the QEMU guest in systemd mode (the initramfs initrd-systemd.cpio.gz
# built by vm/build.sh).  Prepares the same root as init.sh (the host's /
# read-only over 9p under a throw-away tmpfs overlay, /vmrun), but leaves the
# cgroup tree to systemd: it writes a oneshot unit that runs /vmrun/script.sh,
# stores its exit status in /vmrun/exit-code and powers off, then execs the
# host root's systemd as PID 1.  The recipe and its traps: shared/VM-NOTES.md,
# "systemd as PID 1 in the same guest".
# Any failure before the switch powers off without an exit-code file.

B=/bin/busybox
R=/newroot
U=$R/etc/systemd/system

$B mount -t proc proc /proc
$B --install -s /bin
export PATH=/bin
mount -t devtmpfs devtmpfs /dev
exec </dev/null >/dev/console 2>&1

die() {
    echo "vm-init: FATAL: $*"
    sync
    poweroff -f
    sleep 5
}

mount -t sysfs sysfs /sys || die "mount sysfs"
t0=$(cut -d' ' -f1 /proc/uptime)
for m in $(cat /modules/order); do
    insmod "/modules/$m" || die "insmod $m"
done

# No cgroup2 mount here: systemd mounts /sys/fs/cgroup and owns the tree.
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000,cache=loose,ro hostroot /lower \
    || die "mount hostroot (9p)"
mount -t tmpfs -o mode=755 tmpfs /rw || die "mount tmpfs /rw"
mkdir -p /rw/upper /rw/work
mount -t overlay -o lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work overlay $R \
    || die "mount overlay root"

mount --move /proc $R/proc || die "move /proc"
mount --move /sys $R/sys || die "move /sys"
mount --move /dev $R/dev || die "move /dev"
mkdir -p $R/dev/pts $R/dev/shm
mount -t devpts -o newinstance,ptmxmode=0666,mode=620 devpts $R/dev/pts || die "mount devpts"
mount -t tmpfs -o mode=1777 tmpfs $R/dev/shm || die "mount /dev/shm"
# A fresh /run: the host's would tell systemd it runs in a container.
mount -t tmpfs -o mode=755,nosuid,nodev tmpfs $R/run || die "mount /run"
mkdir -p $R/vmrun
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 vmrun $R/vmrun \
    || die "mount vmrun (9p)"
[ -f $R/vmrun/script.sh ] || die "no script.sh in the run dir"

# /.dockerenv makes systemd believe it is in a container (it then ignores the
# kernel command line); the host's fstab would mount its disks.
rm -f $R/.dockerenv $R/run/.containerenv
: >$R/etc/fstab
echo vm >$R/etc/hostname
echo 0123456789abcdef0123456789abcdef >$R/etc/machine-id

# Boot time under TCG is spent in units: mask everything the test does not
# need (the host enables a database, exporters, timers, gettys; sysinit pulls
# udev, tmpfiles (tmp.conf alone empties /tmp for 40 s), sysctl, binfmt ...).
# Generators run at every daemon-reload too; none is needed here.
mkdir -p $U $R/etc/systemd/system-generators $R/etc/tmpfiles.d
for g in $(ls $R/lib/systemd/system-generators); do
    ln -sf /dev/null $R/etc/systemd/system-generators/$g
done
ln -sf /dev/null $R/etc/tmpfiles.d/tmp.conf
for u in postgresql.service prometheus.service prometheus-node-exporter.service smartd.service \
    smartmontools.service e2scrub_reap.service e2scrub_all.timer uuidd.socket \
    apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer fstrim.timer man-db.timer \
    prometheus-node-exporter-apt.timer prometheus-node-exporter-ipmitool-sensor.timer \
    prometheus-node-exporter-mellanox-hca-temp.timer prometheus-node-exporter-nvme.timer \
    prometheus-node-exporter-smartmon.timer nvmefc-boot-connections.service nvmf-autoconnect.service \
    getty@tty1.service serial-getty@ttyS0.service console-getty.service getty.target \
    systemd-networkd.service systemd-networkd.socket systemd-resolved.service systemd-timesyncd.service \
    systemd-logind.service systemd-user-sessions.service systemd-pstore.service \
    dev-hugepages.mount dev-mqueue.mount kmod-static-nodes.service proc-sys-fs-binfmt_misc.automount \
    sys-fs-fuse-connections.mount sys-kernel-config.mount sys-kernel-debug.mount sys-kernel-tracing.mount \
    systemd-ask-password-console.path systemd-ask-password-wall.path systemd-binfmt.service \
    systemd-firstboot.service systemd-journal-flush.service systemd-machine-id-commit.service \
    systemd-modules-load.service systemd-pcrphase-sysinit.service systemd-pcrphase.service \
    systemd-random-seed.service systemd-repart.service systemd-sysctl.service systemd-sysusers.service \
    systemd-tmpfiles-setup-dev.service systemd-tmpfiles-setup.service systemd-tmpfiles-clean.timer \
    systemd-update-utmp.service systemd-update-utmp-runlevel.service systemd-udevd.service \
    systemd-udev-trigger.service systemd-udev-settle.service systemd-hwdb-update.service \
    systemd-journal-catalog-update.service ldconfig.service systemd-remount-fs.service \
    systemd-fsck-root.service systemd-boot-update.service systemd-network-generator.service \
    cryptsetup.target integritysetup.target veritysetup.target remote-fs.target swap.target \
    systemd-boot-system-token.service systemd-rfkill.service systemd-rfkill.socket \
    systemd-hostnamed.service systemd-time-wait-sync.service; do
    ln -sf /dev/null $U/$u
done

# The test: a oneshot service (so the test JVM itself lives in a unit), its
# exit status written to the share before the forced poweroff.
cat >$U/rbee-vm-test.service <<'UNIT'
[Unit]
Description=rbee VM test script (/vmrun/script.sh)
Wants=dbus.socket systemd-journald.socket
After=dbus.socket systemd-journald.socket sysinit.target
SuccessAction=poweroff-force
FailureAction=poweroff-force

[Service]
Type=oneshot
TimeoutStartSec=infinity
WorkingDirectory=/vmrun
Environment=HOME=/root TERM=dumb LANG=C.UTF-8 VM_GUEST=1 VM_SYSTEMD=1
Environment=PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
StandardOutput=tty
StandardError=tty
TTYPath=/dev/console
ExecStart=/bin/sh -c '/vmrun/script.sh; echo $$? >/vmrun/exit-code.tmp && mv /vmrun/exit-code.tmp /vmrun/exit-code; sync'
UNIT
cat >$U/rbee-vm-test.target <<'UNIT'
[Unit]
Description=rbee VM test
Requires=rbee-vm-test.service
After=rbee-vm-test.service
AllowIsolate=yes
UNIT

stty -F /dev/console -onlcr 2>/dev/null
echo "vm-init: switching to systemd (init started at $t0 s)"
exec switch_root $R /lib/systemd/systemd systemd.unit=rbee-vm-test.target systemd.show_status=0
die "switch_root failed"
