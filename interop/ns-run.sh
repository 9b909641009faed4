#!/usr/bin/env bash
# Runs a stock gRPC peer (grpcio, grpc-go) as if on its own Google Compute Engine VM, without
# touching this machine: in a private mount namespace it sees
#   /sys/class/dmi/id/product_name = "Google Compute Engine"   (the GCP check of both stacks)
#   /etc/hosts mapping metadata.google.internal and metadata.google.internal. to HANDSHAKER_IP
#     (grpcio always dials dns:///metadata.google.internal.:8080, with the trailing dot)
# plus `HOST_IP alts-this-host` and the machine's own /etc/hosts lines.
#
#   interop/ns-run.sh HOST_IP HANDSHAKER_IP -- CMD [ARG...]
#
# CMD replaces this script (same PID: signals reach it directly), with no signal blocked
# (interop/default-signals.sh). The fake files live on a tmpfs mounted inside the namespace,
# so nothing is left behind. Needs root (or CAP_SYS_ADMIN) and unshare(1). See docs/INTEROP.md.
set -euo pipefail

usage() { echo "usage: $0 HOST_IP HANDSHAKER_IP -- CMD [ARG...]" >&2; exit 2; }

if [ "${1:-}" != "--inside-namespace" ]; then
    [ $# -ge 4 ] && [ "$3" = "--" ] || usage
    command -v unshare >/dev/null || { echo "ns-run.sh: unshare(1) not found (util-linux)" >&2; exit 2; }
    exec unshare --mount -- "$0" --inside-namespace "$@"
fi
shift
host_ip="$1" handshaker_ip="$2"
shift 3

# Nothing mounted here may propagate back to the machine's namespace.
mount --make-rprivate /

if [ -e /sys/class/dmi/id/product_name ]; then
    # Real DMI: hide only its directory.
    fake=/sys/class/dmi/id
    mount -t tmpfs -o size=1m,mode=0755 alts-ns-run "$fake"
else
    # No DMI (VMs without it, containers): a tmpfs over /sys/class holds the fake tree.
    mount -t tmpfs -o size=1m,mode=0755 alts-ns-run /sys/class
    fake=/sys/class/dmi/id
    mkdir -p "$fake"
fi
echo "Google Compute Engine" >"$fake/product_name"

{
    echo "$handshaker_ip metadata.google.internal metadata.google.internal."
    echo "$host_ip alts-this-host"
    grep -v 'metadata\.google\.internal' /etc/hosts || true
} >"$fake/.hosts"
mount --bind "$fake/.hosts" /etc/hosts

# Unblocked, default signals: SIGTERM must stop CMD even when our caller blocked it.
exec "$(dirname "$0")/default-signals.sh" "$@"
