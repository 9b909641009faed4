# shellcheck shell=bash
# Sourced by bin/demo and vm-setup/*.sh. The caller sets SCRIPT_NAME before sourcing.

SWIFT_ALTS_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export SWIFT_ALTS_ROOT

note() { printf '%s: %s\n' "${SCRIPT_NAME:-swift-alts}" "$*" >&2; }
die() {
    printf '%s: error: %s\n' "${SCRIPT_NAME:-swift-alts}" "$*" >&2
    exit 1
}

# Prints the directory that holds the named binaries. With $SWIFT_ALTS_BIN that directory is
# used as is (prebuilt binaries, CI, tests); otherwise a debug `swift build` brings them up to
# date, which is a no-op when nothing changed. Build output goes to stderr so that callers can
# capture the directory with $(...).
swift_alts_bin_dir() {
    local product
    if [[ -n ${SWIFT_ALTS_BIN:-} ]]; then
        [[ -d $SWIFT_ALTS_BIN ]] || die "SWIFT_ALTS_BIN=$SWIFT_ALTS_BIN is not a directory"
        for product in "$@"; do
            [[ -x $SWIFT_ALTS_BIN/$product ]] || die "SWIFT_ALTS_BIN=$SWIFT_ALTS_BIN has no executable '$product'"
        done
        (cd "$SWIFT_ALTS_BIN" && pwd)
        return
    fi
    command -v swift >/dev/null 2>&1 ||
        die "swift is not on PATH: install Swift 6.1+ or set SWIFT_ALTS_BIN to a directory holding $*"
    for product in "$@"; do
        note "building $product (swift build --product $product)"
        (cd "$SWIFT_ALTS_ROOT" && swift build --product "$product") >&2 || die "swift build --product $product failed"
    done
    (cd "$SWIFT_ALTS_ROOT" && swift build --show-bin-path)
}

# True while PID is alive. A child that exited but was not yet reaped is a zombie, and
# `kill -0` still succeeds on it, so look at its state instead.
is_running() {
    local state
    if [[ -r /proc/$1/stat ]]; then
        state=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || return 1
    else
        state=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
    fi
    [[ -n $state && $state != Z* ]]
}

# wait_for_line FILE REGEX PID SECONDS: prints the first line of FILE matching REGEX (grep -E)
# once it appears; fails if PID exits first or the time runs out.
wait_for_line() {
    local file=$1 regex=$2 pid=$3 seconds=$4 tries line
    for ((tries = seconds * 10; tries > 0; tries--)); do
        if line=$(grep -E -m1 -- "$regex" "$file" 2>/dev/null); then
            printf '%s\n' "$line"
            return 0
        fi
        is_running "$pid" || break
        sleep 0.1
    done
    # The process may have logged the line just before exiting.
    grep -E -m1 -- "$regex" "$file" 2>/dev/null
}

# stop_process PID [SECONDS]: SIGTERM (the server drains and exits 0), SIGKILL if it is still
# alive after SECONDS (default 10); reaps it and returns its exit status.
stop_process() {
    local pid=$1 seconds=${2:-10} tries status=0
    kill -TERM "$pid" 2>/dev/null || true
    for ((tries = seconds * 10; tries > 0; tries--)); do
        is_running "$pid" || break
        sleep 0.1
    done
    if is_running "$pid"; then
        note "process $pid ignored SIGTERM for ${seconds}s; killing it"
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || status=$?
    return "$status"
}

# print_section HEADER FILE...: the labelled output of one side of a demo.
print_section() {
    local header=$1 file
    shift
    printf -- '--- %s ---\n' "$header"
    for file in "$@"; do
        [[ -s $file ]] && cat -- "$file"
    done
    return 0
}
