#!/bin/sh
# A compose service's command, run here the way its container runs it. Start it as root
# under `unshare --mount [--net]` (--net for network_mode: none), in the image's folder:
#   container.sh --user UID:GID [--read-only DIR] [--tmpfs DIR:OPTIONS] [--no-new-privs] -- COMMAND...
# In its own mount namespace it keeps the interpreters under /root/.pyenv reachable for an
# unprivileged user (as an image's /usr/local is), makes DIR read-only, mounts the tmpfs,
# takes on Docker's default seccomp profile (docker_seccomp.py: no namespaces, no mounts),
# then becomes the image's user and runs COMMAND.
set -eu
user="" read_only="" tmpfs="" no_new_privs=""
while [ "$1" != "--" ]; do
    case "$1" in
        --user) user=$2; shift 2 ;;
        --read-only) read_only=$2; shift 2 ;;
        --tmpfs) tmpfs=$2; shift 2 ;;
        --no-new-privs) no_new_privs=--no-new-privs; shift ;;
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
cd "$PWD"  # the folder as the new mounts show it
exec python3 "$(dirname "$0")/docker_seccomp.py" setpriv --reuid "${user%%:*}" --regid "${user#*:}" --groups "${user#*:}" $no_new_privs -- "$@"
