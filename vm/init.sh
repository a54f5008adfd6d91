#!/bin/busybox sh
# /init of the QEMU guest (copied into the initramfs by vm/build.sh).
# Builds a pure cgroup v2 system whose root is the host's / (read-only 9p)
# under a throw-away tmpfs overlay, runs /vmrun/script.sh from the run dir
# share, stores its exit status in /vmrun/exit-code and powers off.
# Any failure powers off without an exit-code file; vm/run.sh reports that.
# busybox ash: no pipefail needed, every step is checked explicitly.

B=/bin/busybox
R=/newroot

# proc first: busybox --install reads /proc/self/exe.
$B mount -t proc proc /proc
$B --install -s /bin
export PATH=/bin
mount -t devtmpfs devtmpfs /dev
exec </dev/null >/dev/console 2>&1

die() {
    echo "vm-init: FATAL: $*"
    sync
    poweroff -f
    sleep 5   # poweroff -f should not return
}

mount -t sysfs sysfs /sys || die "mount sysfs"

for m in $(cat /modules/order); do
    insmod "/modules/$m" || die "insmod $m"
done

# Pure cgroup v2: cgroup v1 is never mounted. nsdelegate as systemd does.
mount -t cgroup2 -o nsdelegate cgroup2 /sys/fs/cgroup || die "mount cgroup2"
echo "+cpu +memory +io +pids" >/sys/fs/cgroup/cgroup.subtree_control \
    || die "enable cgroup controllers"

ip link set lo up || echo "vm-init: warning: lo not up"
hostname vm

# Host root read-only; cache=loose is safe since the host tree does not
# change under a test and makes the JVM's many file reads much faster.
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000,cache=loose,ro hostroot /lower \
    || die "mount hostroot (9p)"
mount -t tmpfs -o mode=755 tmpfs /rw || die "mount tmpfs /rw"
mkdir -p /rw/upper /rw/work
mount -t overlay -o lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work overlay $R \
    || die "mount overlay root"

mount --move /proc $R/proc || die "move /proc"
mount --move /sys $R/sys || die "move /sys"     # carries /sys/fs/cgroup along
mount --move /dev $R/dev || die "move /dev"
mkdir -p $R/dev/pts $R/dev/shm
mount -t devpts -o newinstance,ptmxmode=0666,mode=620 devpts $R/dev/pts || die "mount devpts"
mount -t tmpfs -o mode=1777 tmpfs $R/dev/shm || die "mount /dev/shm"
# /tmp stays the host's (through the overlay, writes stay in the guest): a
# repository cloned under /tmp must be as visible as anywhere else.
mkdir -p $R/vmrun
# Run dir: read-write, no cache, so files land on the host as written.
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 vmrun $R/vmrun \
    || die "mount vmrun (9p)"
[ -f $R/vmrun/script.sh ] || die "no script.sh in the run dir"

# Plain \n in the console log instead of \r\n.
stty -F /dev/console -onlcr 2>/dev/null

env -i HOME=/root TERM=dumb LANG=C.UTF-8 VM_GUEST=1 \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    chroot $R /bin/sh -c 'cd /vmrun && exec /vmrun/script.sh'
rc=$?

echo "$rc" >$R/vmrun/exit-code.tmp && mv $R/vmrun/exit-code.tmp $R/vmrun/exit-code
sync
poweroff -f
