#!/bin/sh
# A compose service's command, run here the way its container runs it. Start it as root
# under `unshare --mount [--net]` (--net for network_mode: none), in the image's folder:
#   container.sh --user UID:GID [--read-only DIR] [--tmpfs DIR:OPTIONS] [--no-new-privs]
#                [--seccomp PROFILE.json] [--systempaths-unconfined]
#                [--cgroup NAME [--pids-limit N] [--memory BYTES] [--delegate]] -- COMMAND...
# In its own mount namespace it keeps the interpreters under /root/.pyenv reachable for an
# unprivileged user (as an image's /usr/local is), makes DIR read-only, mounts the tmpfs,
# masks /proc and /sys paths as Docker does (moby's oci defaults: MaskedPaths, ReadonlyPaths;
# not with --systempaths-unconfined, the compose setting security_opt systempaths=unconfined),
# puts itself in the container's cgroup NAME (cgroup v1 memory and pids here: pids_limit,
# mem_limit; --delegate hands it to the image's user, as a host delegating a subtree would),
# takes on the seccomp profile (Docker's default, or security_opt seccomp=PROFILE.json),
# compiled with libseccomp by docker_seccomp.py, then becomes the image's user and runs COMMAND.
# Not emulated: AppArmor (this machine has none; Docker's docker-default denies mount) and
# the container's own PID namespace.
set -eu
here=$(dirname "$0")
user="" read_only="" tmpfs="" no_new_privs="" masked=yes cgroup="" pids_limit="" memory="" delegate=""
profile="$here/../../compose/sandbox/seccomp/docker-default.json"
while [ "$1" != "--" ]; do
    case "$1" in
        --user) user=$2; shift 2 ;;
        --read-only) read_only=$2; shift 2 ;;
        --tmpfs) tmpfs=$2; shift 2 ;;
        --no-new-privs) no_new_privs=--no-new-privs; shift ;;
        --seccomp) profile=$2; shift 2 ;;
        --systempaths-unconfined) masked=""; shift ;;
        --cgroup) cgroup=$2; shift 2 ;;
        --pids-limit) pids_limit=$2; shift 2 ;;
        --memory) memory=$2; shift 2 ;;
        --delegate) delegate=yes; shift ;;
        *) echo "container.sh: unknown option $1" >&2; exit 2 ;;
    esac
done
shift
if [ -d /root/.pyenv ]; then
    exec 3</root/.pyenv
    mount -t tmpfs -o mode=0755,size=1m tmpfs /root
    mkdir /root/.pyenv
    mount --no-canonicalize --bind /proc/self/fd/3 /root/.pyenv
    exec 3<&-
fi
if [ -n "$read_only" ]; then
    mount --bind "$read_only" "$read_only"
    mount -o remount,bind,ro "$read_only"
fi
if [ -n "$tmpfs" ]; then
    mount -t tmpfs -o "${tmpfs#*:}" tmpfs "${tmpfs%%:*}"
fi
if [ -n "$masked" ]; then
    for path in /proc/acpi /proc/asound /proc/interrupts /proc/kcore /proc/keys /proc/latency_stats \
        /proc/sched_debug /proc/scsi /proc/timer_list /proc/timer_stats /sys/devices/virtual/powercap /sys/firmware; do
        if [ -d "$path" ]; then
            mount -t tmpfs -o ro,size=0 tmpfs "$path"
        elif [ -e "$path" ]; then
            mount --bind /dev/null "$path"
        fi
    done
    for path in /proc/bus /proc/fs /proc/irq /proc/sys /proc/sysrq-trigger; do
        if [ -e "$path" ]; then
            mount --bind "$path" "$path"
            mount -o remount,bind,ro "$path"
        fi
    done
fi
if [ -n "$cgroup" ]; then
    for controller in memory pids; do
        folder=/sys/fs/cgroup/$controller/$cgroup
        mkdir "$folder"
        echo $$ > "$folder/cgroup.procs"
        if [ -n "$delegate" ]; then
            chown -R "$user" "$folder"
        fi
    done
    if [ -n "$pids_limit" ]; then
        echo "$pids_limit" > "/sys/fs/cgroup/pids/$cgroup/pids.max"
    fi
    if [ -n "$memory" ]; then
        echo "$memory" > "/sys/fs/cgroup/memory/$cgroup/memory.limit_in_bytes"
    fi
fi
cd "$PWD"  # the folder as the new mounts show it
exec python3 "$here/docker_seccomp.py" "$profile" setpriv --reuid "${user%%:*}" --regid "${user#*:}" --groups "${user#*:}" $no_new_privs -- "$@"
