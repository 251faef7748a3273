#!/bin/busybox sh
# Stage 1 of the kernel lab, /init of the initramfs (written by xtask/src/lab/image.rs).
#
# Loads the virtio, 9p and overlay modules, mounts the host's root file system (shared read-only
# over 9p) under a tmpfs overlay, so every host program and library is there and writes go to RAM,
# then switch_root's into it and runs stage 2 (stage2.sh) as PID 1.
/bin/busybox --install -s /bin
export PATH=/bin

fail() {
    echo "lab: stage 1: $*" >/dev/console
    poweroff -f
}

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev

while read -r m; do
    insmod "/lab/modules/$m.ko" || fail "insmod $m failed"
done </lab/modules.order

job=
for word in $(cat /proc/cmdline); do
    case "$word" in
    labjob=*) job="${word#labjob=}" ;;
    esac
done
[ -n "$job" ] || fail "no labjob= on the kernel command line"

mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=512000,cache=loose hostroot /lower ||
    fail "cannot mount the host root over 9p"
mount -t tmpfs -o mode=0755 upper /upper || fail "tmpfs"
mkdir -p /upper/data /upper/work
mount -t overlay -o lowerdir=/lower,upperdir=/upper/data,workdir=/upper/work overlay /newroot ||
    fail "cannot mount the overlay root"

N=/newroot
mount -t proc proc $N/proc
mount -t sysfs sysfs $N/sys
mount -t devtmpfs devtmpfs $N/dev
mkdir -p $N/dev/pts $N/dev/shm $N/dev/virtio-ports
mount -t devpts -o gid=5,mode=0620,ptmxmode=0666 devpts $N/dev/pts
mount -t tmpfs -o mode=1777 shm $N/dev/shm
mount -t tmpfs -o mode=0755 run $N/run
mkdir -p $N/run/lab $N/run/netns $N/run/lock
for p in /sys/class/virtio-ports/*; do
    [ -e "$p/name" ] && ln -s "../${p##*/}" "$N/dev/virtio-ports/$(cat "$p/name")"
done

cp /bin/busybox /lab/stage2 $N/run/lab/ || fail "cannot copy stage 2"
cp "/lower$job/job.sh" "/lower$job/mark" "/lower$job/mode" $N/run/lab/ ||
    fail "cannot read the job from $job"

exec switch_root $N /bin/sh /run/lab/stage2
