#!/usr/bin/env bash
# Runs CMD (same PID, via exec) with no signal blocked and SIGTERM/SIGINT/SIGHUP at their
# default handling.
#
#   interop/default-signals.sh CMD [ARG...]
#
# Why: a child inherits its parent's blocked-signal mask across fork and exec. Foundation's
# Process on Linux, called from a Swift test (whose threads block every signal), passes that
# mask on, so a grpcio server or an Envoy started from a test would ignore SIGTERM. bash cannot
# unblock signals; perl-base (Essential in Debian) can.
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: $0 CMD [ARG...]" >&2; exit 2; }
exec perl -MPOSIX -e '
    sigprocmask(SIG_SETMASK, POSIX::SigSet->new) or die "sigprocmask: $!\n";
    $SIG{$_} = "DEFAULT" for qw(TERM INT HUP);
    exec { $ARGV[0] } @ARGV or die "default-signals.sh: cannot run $ARGV[0]: $!\n";
' -- "$@"
