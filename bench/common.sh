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

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
mbps() { awk -v a="$1" 'BEGIN { printf "%d", a / 1e6 }'; }
