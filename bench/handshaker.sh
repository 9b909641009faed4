#!/usr/bin/env bash
# Handshakes through the handshaker service against the same handshakes in process, measured
# in one run: full ALTS handshakes per second and latency over loopback TCP, then a burst of
# 1,000 concurrent handshakes through the services, which must all succeed.
# Service mode: each side hands its handshakes to its own `handshaker` process (as on two VMs).
# Last line: ratios: service_vs_inprocess=R (service hs/s ÷ in-process hs/s; higher is better).
source "$(dirname "$0")/common.sh"
SECONDS_EACH=${SECONDS_EACH:-5}
CONCURRENCY=${CONCURRENCY:-16}
BURST=${BURST:-1000}

bin=$(release_bin_path alts-bench)
(cd "$BENCH_ROOT" && swift build -c release --product handshaker >&2 && swift build -c release --product altsctl >&2)

"$bin/altsctl" projects create hs-bench --dir "$work/projects" >/dev/null
for name in bench-server bench-client; do
    "$bin/altsctl" service-accounts create "$name" --project hs-bench --dir "$work/projects" --out "$work/$name" >/dev/null
done

# A port nobody uses: bind 0 in Python and report it.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
start_handshaker() {
    local port=$1 credentials=$2
    "$bin/handshaker" --listen "127.0.0.1:$port" --credentials "$credentials" 2>"$work/handshaker-$port.log" &
    server_pids+=($!)
    await_line "$work/handshaker-$port.log" '/handshaker listening/p' >/dev/null
}
server_port=$(free_port); client_port=$(free_port)
start_handshaker "$server_port" "$work/bench-server"
start_handshaker "$client_port" "$work/bench-client"

field() { sed -E "s/.*$1=([^ ]+).*/\1/"; }

inprocess=$("$bin/alts-bench" handshaker-compare --server-credentials "$work/bench-server" --client-credentials "$work/bench-client" \
    --seconds "$SECONDS_EACH" --concurrency "$CONCURRENCY")
service=$("$bin/alts-bench" handshaker-compare --server-handshaker "127.0.0.1:$server_port" --client-handshaker "127.0.0.1:$client_port" \
    --seconds "$SECONDS_EACH" --concurrency "$CONCURRENCY")
burst=$("$bin/alts-bench" handshaker-compare --server-handshaker "127.0.0.1:$server_port" --client-handshaker "127.0.0.1:$client_port" \
    --burst "$BURST")

echo "machine: $(nproc) cores, $(swift --version 2>&1 | head -1 | sed 's/ (.*//'); concurrency $CONCURRENCY, ${SECONDS_EACH}s each"
printf '%-48s %10s %10s %10s %9s\n' "measurement" "hs/s" "p50 ms" "p99 ms" "failures"
printf '%-48s %10s %10s %10s %9s\n' "in-process handshakes (TCP loopback)" \
    "$(field hs_per_s <<<"$inprocess")" "$(field p50_ms <<<"$inprocess")" "$(field p99_ms <<<"$inprocess")" "$(field failures <<<"$inprocess")"
printf '%-48s %10s %10s %10s %9s\n' "through handshaker services (one per side)" \
    "$(field hs_per_s <<<"$service")" "$(field p50_ms <<<"$service")" "$(field p99_ms <<<"$service")" "$(field failures <<<"$service")"
printf '%-48s %10s %10s %10s %9s\n' "burst of $BURST concurrent through the services" \
    "$(field succeeded <<<"$burst") ok" "$(field p50_ms <<<"$burst")" "$(field p99_ms <<<"$burst")" "$(field failures <<<"$burst")"
echo "ratios: service_vs_inprocess=$(ratio "$(field hs_per_s <<<"$service")" "$(field hs_per_s <<<"$inprocess")")"
