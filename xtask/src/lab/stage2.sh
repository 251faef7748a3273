# Stage 2 of the kernel lab: PID 1 on the host's root (read-only over 9p, tmpfs overlay), run by
# the host's /bin/sh, so plain command names are the host's programs (busybox only where named).
#
# Prepares the network stack (loopback up, IPVS and ipip loaded; other modules load on demand
# through the kernel's request_module and the host's modprobe), then runs the job and reports.
# Run mode talks to the host over three virtio-serial ports: lab.out (the job's stdout), lab.err
# (its stderr) and lab.ctl (control lines: "boot <uptime>", "status <code>"; the host answers
# "ack" once it has seen the end marker on both output ports, so no output is lost at power-off).
B=/run/lab/busybox
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root
mode=$(cat /run/lab/mode)

$B hostname lab
ip link set lo up
# libcrc32c (needed by nf_conntrack, needed by ip_vs) wants crc32c_generic first.
modprobe crc32c_generic 2>/dev/null
setup_errors=
for m in ip_vs ipip; do
    modprobe "$m" || setup_errors="$setup_errors modprobe $m failed;"
done

if [ "$mode" = shell ]; then
    [ -n "$setup_errors" ] && echo "lab: $setup_errors" >/dev/ttyS0
    echo "lab: kernel $($B uname -r): $(head -1 /proc/net/ip_vs 2>/dev/null); exit the shell to power off" >/dev/ttyS0
    cd /root 2>/dev/null || cd /
    . /run/lab/job.sh
    export LVS_LAB=1
    shell=/bin/sh
    [ -x /bin/bash ] && shell=/bin/bash
    $B setsid sh -c "exec $shell -i </dev/ttyS0 >/dev/ttyS0 2>&1"
    $B poweroff -f
fi

exec 3>/dev/virtio-ports/lab.out 4>/dev/virtio-ports/lab.err 5<>/dev/virtio-ports/lab.ctl
echo "boot $(cut -d' ' -f1 /proc/uptime)" >&5
[ -n "$setup_errors" ] && echo "lab: $setup_errors" >&4
export LVS_LAB=1
sh /run/lab/job.sh </dev/null >&3 2>&4 3>&- 4>&- 5>&-
status=$?
mark=$(cat /run/lab/mark)
printf '%s' "$mark" >&3
printf '%s' "$mark" >&4
echo "status $status" >&5
read -r ack <&5
$B poweroff -f
