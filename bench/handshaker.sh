#!/usr/bin/env bash
# Handshakes through the handshaker service against the same handshakes in process, measured
# in one run: full ALTS handshakes per second and latency over loopback TCP, then a burst of
# 1,000 concurrent handshakes through the services, which must all succeed.
# Service mode: each side hands its handshakes to its own `handshaker` process (as on two VMs).
# The rate is compared with enough handshakes in flight to keep both cores busy (CONCURRENCY);
# a second pair of runs at LATENCY_CONCURRENCY shows the latency-bound case.
# Last line: ratios: service_vs_inprocess=R (service hs/s ÷ in-process hs/s at CONCURRENCY;
# higher is better).
source "$(dirname "$0")/common.sh"
SECONDS_EACH=${SECONDS_EACH:-5}
CONCURRENCY=${CONCURRENCY:-64}
LATENCY_CONCURRENCY=${LATENCY_CONCURRENCY:-16}
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
inprocess_low=$("$bin/alts-bench" handshaker-compare --server-credentials "$work/bench-server" --client-credentials "$work/bench-client" \
    --seconds "$SECONDS_EACH" --concurrency "$LATENCY_CONCURRENCY")
service_low=$("$bin/alts-bench" handshaker-compare --server-handshaker "127.0.0.1:$server_port" --client-handshaker "127.0.0.1:$client_port" \
    --seconds "$SECONDS_EACH" --concurrency "$LATENCY_CONCURRENCY")
burst=$("$bin/alts-bench" handshaker-compare --server-handshaker "127.0.0.1:$server_port" --client-handshaker "127.0.0.1:$client_port" \
    --burst "$BURST")

echo "machine: $(nproc) cores, $(swift --version 2>&1 | head -1 | sed 's/ (.*//'); ${SECONDS_EACH}s each"
printf '%-48s %10s %10s %10s %9s\n' "measurement (in flight)" "hs/s" "p50 ms" "p99 ms" "failures"
row() { # label result
    printf '%-48s %10s %10s %10s %9s\n' "$1" "$(field hs_per_s <<<"$2")" "$(field p50_ms <<<"$2")" "$(field p99_ms <<<"$2")" "$(field failures <<<"$2")"
}
row "in-process handshakes, TCP loopback ($CONCURRENCY)" "$inprocess"
row "through handshaker services, one per side ($CONCURRENCY)" "$service"
row "in-process handshakes ($LATENCY_CONCURRENCY)" "$inprocess_low"
row "through handshaker services ($LATENCY_CONCURRENCY)" "$service_low"
echo "at $LATENCY_CONCURRENCY in flight: service/in-process $(ratio "$(field hs_per_s <<<"$service_low")" "$(field hs_per_s <<<"$inprocess_low")")"
printf '%-48s %10s %10s %10s %9s\n' "burst of $BURST concurrent through the services" \
    "$(field succeeded <<<"$burst") ok" "$(field p50_ms <<<"$burst")" "$(field p99_ms <<<"$burst")" "$(field failures <<<"$burst")"
echo "ratios: service_vs_inprocess=$(ratio "$(field hs_per_s <<<"$service")" "$(field hs_per_s <<<"$inprocess")")"
