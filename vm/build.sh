#!/usr/bin/env bash
# Build (or refresh) the cached pieces a QEMU guest needs: host packages, an
# uncompressed Debian kernel, a small busybox initramfs and a scratch disk.
# Usage: vm/build.sh CACHE_DIR
# Idempotent: every artefact is rebuilt only when missing (an initramfs also
# when its init script is newer). See /work/shared/VM-NOTES.md for the why.
set -euo pipefail

if [[ $# -ne 1 ]]; then
    echo "usage: $0 CACHE_DIR" >&2
    exit 2
fi

VM_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
mkdir -p "$1"
CACHE=$(cd "$1" && pwd)
# Modules the guest loads, in this order (dependencies are added before each).
MODULES=(virtio_pci virtio_blk 9pnet_virtio 9p ext4 overlay)
PACKAGES=(qemu-system-x86 busybox-static cpio kmod xz-utils)
SCRATCH_MB=64

log() { echo "vm-build: $*" >&2; }
die() { echo "vm-build: ERROR: $*" >&2; exit 1; }

apt_updated=0
apt_update_once() {
    if [[ $apt_updated -eq 0 ]]; then
        log "apt-get update"
        apt-get update -qq
        apt_updated=1
    fi
}

# --- 1. host packages -------------------------------------------------------
missing=()
for p in "${PACKAGES[@]}"; do
    if [[ $(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true) != "install ok installed" ]]; then
        missing+=("$p")
    fi
done
if [[ ${#missing[@]} -gt 0 ]]; then
    if [[ $(id -u) -ne 0 ]]; then
        die "missing packages: ${missing[*]}; run as root or: sudo apt-get install -y --no-install-recommends ${missing[*]}"
    fi
    apt_update_once
    log "installing ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# --- 2. kernel package (downloaded, never installed: installing pulls udev,
#        initramfs-tools and systemd upgrades onto the host) ------------------
kernel_pkg() {
    apt-cache depends linux-image-amd64 2>/dev/null \
        | sed -n 's/^ *Depends: \(linux-image-[0-9].*-amd64\)$/\1/p' | head -n1
}
if [[ ! -s $CACHE/kver ]]; then
    pkg=$(kernel_pkg || true)
    if [[ -z $pkg && $(id -u) -eq 0 ]]; then
        apt_update_once
        pkg=$(kernel_pkg || true)
    fi
    [[ -n $pkg ]] || die "cannot resolve linux-image-amd64 (apt lists missing? run apt-get update as root)"
    log "downloading $pkg"
    rm -rf "$CACHE/deb" && mkdir -p "$CACHE/deb"
    # As root, apt would warn that its sandbox user cannot write CACHE_DIR.
    dl_opts=(-qq)
    [[ $(id -u) -ne 0 ]] || dl_opts+=(-o APT::Sandbox::User=root)
    # Stale lists name versions the mirror no longer has: update once, retry.
    if ! (cd "$CACHE/deb" && apt-get download "${dl_opts[@]}" "$pkg"); then
        [[ $(id -u) -eq 0 ]] || die "apt-get download $pkg failed; run apt-get update as root"
        apt_update_once
        pkg=$(kernel_pkg)
        (cd "$CACHE/deb" && apt-get download "${dl_opts[@]}" "$pkg")
    fi
    rm -rf "$CACHE/kroot"
    dpkg-deb -x "$CACHE"/deb/"$pkg"_*.deb "$CACHE/kroot"
    kver=$(ls "$CACHE/kroot/lib/modules")
    [[ $(wc -w <<<"$kver") -eq 1 ]] || die "expected one kernel in the package, got: $kver"
    depmod -b "$CACHE/kroot" "$kver"
    rm -f "$CACHE/vmlinux" "$CACHE/initrd.cpio.gz" "$CACHE/initrd-systemd.cpio.gz"
    echo "$kver" >"$CACHE/kver"
fi
kver=$(cat "$CACHE/kver")
KROOT=$CACHE/kroot

# --- 3. uncompressed vmlinux: QEMU boots it directly and the guest skips ~3 s
#        of xz decompression under TCG (method of scripts/extract-vmlinux) ---
if [[ ! -s $CACHE/vmlinux ]]; then
    bz=$KROOT/boot/vmlinuz-$kver
    [[ -f $bz ]] || die "no $bz"
    # Try each offset of the xz stream magic FD 37 7A 58 5A 00; xz exits
    # non-zero on the bytes after the stream, so judge by the output instead.
    found=0
    for off in $(LC_ALL=C grep -obUaP '\xfd7zXZ\x00' "$bz" | cut -d: -f1); do
        tail -c +$((off + 1)) "$bz" | xz -dc 2>/dev/null >"$CACHE/vmlinux.tmp" || true
        if [[ $(head -c 4 "$CACHE/vmlinux.tmp" | od -An -tx1 | tr -d ' \n') == 7f454c46 ]]; then
            found=1
            break
        fi
    done
    [[ $found -eq 1 ]] || die "no xz-compressed ELF found in $bz"
    mv "$CACHE/vmlinux.tmp" "$CACHE/vmlinux"
    log "extracted vmlinux ($(du -h "$CACHE/vmlinux" | cut -f1))"
fi

# --- 4. initramfs: busybox + modules + an /init; two of them, the busybox
#        mode's (vm/init.sh) and the systemd mode's (vm/init-systemd.sh) -----
build_initrd() {   # build_initrd INIT_SCRIPT OUT_NAME
    local init=$1 out=$CACHE/$2 ir sz pad m kind path name dest
    if [[ -s $out && ! $init -nt $out ]]; then return 0; fi
    log "building $2 from $(basename "$init")"
    ir=$(mktemp -d "$CACHE/initrd.XXXXXX")
    trap 'rm -rf "$ir"' EXIT
    mkdir -p "$ir"/{bin,dev,proc,sys,lower,newroot,rw,modules}
    # The initramfs has no libc: busybox must be the static build.
    { ldd /bin/busybox 2>&1 || true; } | grep -q 'not a dynamic executable' || die "/bin/busybox is not static (busybox-static?)"
    cp /bin/busybox "$ir/bin/busybox"
    install -m 755 "$init" "$ir/init"
    # Flat, ordered module list: busybox insmod needs dependencies loaded first.
    : >"$ir/modules/order"
    for m in "${MODULES[@]}"; do
        while read -r kind path _; do
            [[ $kind == insmod ]] || continue   # "builtin X" lines need nothing
            name=$(basename "$path")
            case $name in
                *.ko.xz) dest=${name%.xz}; [[ -e $ir/modules/$dest ]] || xz -dc "$path" >"$ir/modules/$dest" ;;
                *.ko) dest=$name; [[ -e $ir/modules/$dest ]] || cp "$path" "$ir/modules/$dest" ;;
                *) die "unhandled module format: $name" ;;
            esac
            grep -qxF "$dest" "$ir/modules/order" || echo "$dest" >>"$ir/modules/order"
        done < <(modprobe -d "$KROOT" -S "$kver" --show-depends "$m")
    done
    # No device nodes needed (so no root needed): the kernel's built-in
    # initramfs already holds /dev/console, and /init mounts devtmpfs first.
    (cd "$ir" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) \
        | gzip -9n >"$out.tmp.$$"
    # Pad to 512 bytes so another cpio can be appended later (VM-NOTES).
    sz=$(stat -c %s "$out.tmp.$$")
    pad=$(( (512 - sz % 512) % 512 ))
    [[ $pad -eq 0 ]] || head -c "$pad" /dev/zero >>"$out.tmp.$$"
    mv "$out.tmp.$$" "$out"
    log "$2 $(du -h "$out" | cut -f1), modules: $(tr '\n' ' ' <"$ir/modules/order")"
    rm -rf "$ir"
    trap - EXIT
}
build_initrd "$VM_DIR/init.sh" initrd.cpio.gz
build_initrd "$VM_DIR/init-systemd.sh" initrd-systemd.cpio.gz

# --- 5. scratch disk: raw and sparse; run.sh attaches it with snapshot=on so
#        guest writes never reach this file and concurrent runs don't clash -
if [[ ! -f $CACHE/scratch.img ]]; then
    truncate -s "${SCRATCH_MB}M" "$CACHE/scratch.img.tmp"
    mv "$CACHE/scratch.img.tmp" "$CACHE/scratch.img"
    log "created ${SCRATCH_MB} MiB scratch.img"
fi

log "ready: $CACHE (kernel $kver)"
