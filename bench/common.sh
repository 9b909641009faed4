# Shared helpers for the bench/ scripts. Source it; do not run it.
set -euo pipefail
BENCH_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# Builds the release products once per script run and prints the bin path.
release_bin_path() {
    (cd "$BENCH_ROOT" && swift build -c release --product "$1" >&2 && swift build -c release --show-bin-path)
}

# Bytes per second from `openssl speed -mr` for one EVP cipher at one block size.
openssl_speed() {
    local cipher=$1 bytes=$2 seconds=$3; shift 3
    openssl speed -evp "$cipher" "$@" -bytes "$bytes" -seconds "$seconds" -mr 2>/dev/null \
        | awk -F: '/^\+F:/ {print $4}' | tail -1
}

# The value of key=value field $1 in line $2.
field() { grep -oE "(^| )$1=[^ ]+" <<<"$2" | sed 's/.*=//'; }

# User + system CPU of process $1 so far, in clock ticks.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
mbps() { awk -v a="$1" 'BEGIN { printf "%d", a / 1e6 }'; }

# A scratch directory and the background servers a script starts (append their PIDs to
# server_pids); both are cleaned up when the script exits, however it exits.
work=$(mktemp -d)
server_pids=()
bench_cleanup() {
    for pid in "${server_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap bench_cleanup EXIT

# Prints what sed expression $2 extracts from file $1, waiting up to 10 s for a server to write it.
await_line() {
    local file=$1 expression=$2 value
    for _ in $(seq 100); do
        # The file may not exist yet: a background job's redirection happens after the fork.
        value=$({ sed -n "$expression" "$file" 2>/dev/null || true; } | head -1)
        if [[ -n $value ]]; then echo "$value"; return; fi
        sleep 0.1
    done
    echo "timed out waiting for a line in $file:" >&2; cat "$file" >&2
    return 1
}
