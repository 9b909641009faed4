#!/usr/bin/env bash
# Load and soak, on this machine, in one run (docs/RELIABILITY.md):
#   A. Load: `alts-bench load-client` opens CONNECTIONS gRPC connections to `alts-bench
#      grpc-server` at once (each its own GRPCClient; ALTS handshakes in process), waits until
#      every connect has finished, then makes RPCS sequential unary Echo RPCs on every
#      connection, all connections concurrently. Any failed connect or RPC fails the script.
#      The reference is the same load over plaintext (the same grpc-swift client stack,
#      HTTP2ClientTransport.WrappedChannel, and the same server code), in the same run. ROUNDS
#      rounds of each, alternating which goes first; the round with the median RPC/s is shown.
#   B. Soak: wrk -t2 -c64 through the alts-proxy pair of bench/proxy.sh (httpbin <- server
#      alts-proxy <- ALTS <- client alts-proxy <- wrk, GET /hello) for SOAK_SECONDS, sampling
#      both proxies' RSS (VmRSS) and open descriptors every SAMPLE_SECONDS. Growth is the last
#      sample (taken after wrk has finished) over the sample at BASELINE_SECONDS (the end of the
#      first minute: by then allocator arenas, connection pools and buffers have reached their
#      working size, so what grows after it is what a leak would look like). wrk must report
#      no non-2xx responses and no socket errors.
# Last line: `ratios: load_alts_vs_plaintext=R soak_rss_growth_headroom=R`, higher is better:
#   load_alts_vs_plaintext = ALTS RPC/s / plaintext RPC/s, each over its whole run (connects
#     and handshakes included);
#   soak_rss_growth_headroom = 1.10 / (1 + g), g the larger of the two proxies' RSS growth;
#     >= 1.00 means both grew by at most 10%.
# PARTS=load or PARTS=soak runs one part (the ratios line then has its key only).
# Needs: swift, wrk, curl, python3 (apt-get install wrk curl python3).
source "$(dirname "$0")/common.sh"
source "$(dirname "$0")/proxy-common.sh"

CONNECTIONS=${CONNECTIONS:-1000}
RPCS=${RPCS:-100}
ROUNDS=${ROUNDS:-3}
MESSAGE=${MESSAGE:-hello world}
SOAK_SECONDS=${SOAK_SECONDS:-600}
SAMPLE_SECONDS=${SAMPLE_SECONDS:-10}
BASELINE_SECONDS=${BASELINE_SECONDS:-60}
WRK_CONNECTIONS=${WRK_CONNECTIONS:-64}
PARTS=${PARTS:-load,soak}
PROJECT=load-bench

for tool in curl python3 $([[ $PARTS == *soak* ]] && echo wrk); do
    command -v "$tool" >/dev/null || { echo "bench/load.sh needs $tool (apt-get install wrk curl python3)" >&2; exit 1; }
done
# Each connection is a descriptor in the client and one in the server.
ulimit -n "$(ulimit -Hn)"
(($(ulimit -n) > CONNECTIONS + 1000)) || { echo "bench/load.sh: open-file limit $(ulimit -n) is too low for $CONNECTIONS connections" >&2; exit 1; }
# The baseline is a sample time at most half-way through the soak (a short run has no first minute to spare).
if ((BASELINE_SECONDS * 2 > SOAK_SECONDS)); then BASELINE_SECONDS=$((SOAK_SECONDS / 2)); fi
BASELINE_SECONDS=$((BASELINE_SECONDS / SAMPLE_SECONDS * SAMPLE_SECONDS))

bin=$(release_bin_path alts-bench)
release_bin_path altsctl >/dev/null
[[ $PARTS == *soak* ]] && { release_bin_path alts-proxy >/dev/null; release_bin_path httpbin >/dev/null; }
ticks_per_s=$(getconf CLK_TCK)
echo "machine: $(nproc) cores, $(awk '/model name/ { $1=$2=$3=""; print; exit }' /proc/cpuinfo | sed 's/^ *//')," \
    "$(swift --version 2>&1 | head -1 | sed 's/ (.*//'); load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
ratios=()

# --- A. 1,000 concurrent connections x 100 RPCs ---------------------------------------------
if [[ $PARTS == *load* ]]; then
    "$bin/altsctl" projects create "$PROJECT" --dir "$work/projects" >/dev/null
    for role in server client; do
        "$bin/altsctl" service-accounts create "alts-$role" --project "$PROJECT" --dir "$work/projects" \
            --out "$work/alts-$role" >/dev/null
    done
    declare -A port server_pid served
    for security in alts plaintext; do
        "$bin/alts-bench" grpc-server --security "$security" --credentials "$work/alts-server" \
            >"$work/server-$security.out" 2>"$work/server-$security.err" &
        server_pids+=("$!")
        server_pid[$security]=$!
        port[$security]=$(await_line "$work/server-$security.out" 's/^listening port=//p')
    done
    for round in $(seq "$ROUNDS"); do
        order=(alts plaintext)
        ((round % 2 == 0)) && order=(plaintext alts)
        for security in "${order[@]}"; do
            before=$(cpu_ticks "${server_pid[$security]}")
            if ! timeout 600 "$bin/alts-bench" load-client --security "$security" --port "${port[$security]}" \
                --credentials "$work/alts-client" --server-account "alts-server@$PROJECT.iam.gserviceaccount.com" \
                --connections "$CONNECTIONS" --rpcs "$RPCS" --message "$MESSAGE" >"$work/load.log" 2>&1; then
                echo "alts-bench load-client --security $security failed (round $round):" >&2
                tail -8 "$work/load.log" >&2
                exit 1
            fi
            line=$(grep '^load ' "$work/load.log")
            server_ms=$((($(cpu_ticks "${server_pid[$security]}") - before) * 1000 / ticks_per_s))
            cpu_per_rpc=$(awk -v c="$(field cpu_ms "$line")" -v s="$server_ms" -v n="$(field rpcs "$line")" \
                'BEGIN { printf "%d", (c + s) * 1000 / n }')
            echo "$line cpu_us_per_rpc=$cpu_per_rpc" >>"$work/results-$security"
        done
    done
    # Every RPC the clients counted was served: the servers print their totals on SIGTERM.
    for security in alts plaintext; do
        kill -TERM "${server_pid[$security]}"
        wait "${server_pid[$security]}" || true
        served[$security]=$(sed -n 's/^server rpcs=//p' "$work/server-$security.out")
        if [[ ${served[$security]} != $((ROUNDS * CONNECTIONS * RPCS)) ]]; then
            echo "the $security server served ${served[$security]:-?} RPCs, not $((ROUNDS * CONNECTIONS * RPCS))" >&2; exit 1
        fi
    done
    # The line of the round with the median RPC/s.
    median_line() { awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^rpcs_per_s=/) { split($i, kv, "="); print kv[2], $0 } }' \
        "$work/results-$1" | sort -n | sed -n "$(((ROUNDS + 1) / 2))p" | cut -d' ' -f2-; }
    alts_line=$(median_line alts)
    plaintext_line=$(median_line plaintext)

    echo
    echo "A. load: $CONNECTIONS connections opened at once, then $RPCS sequential unary echo RPCs (\"$MESSAGE\") on each," \
        "all connections concurrently; median of $ROUNDS rounds by RPC/s"
    echo "   RPC/s: all RPCs / (connect phase + RPC phase); CPU: client + server process CPU per RPC"
    printf '   %-9s %6s %8s %6s %9s %9s %7s %8s %8s %8s %8s %8s %8s %6s\n' security conns rpcs errors connect_s rpc_s \
        "RPC/s" "conn p50" "conn p99" "rpc p50" "rpc p99" "p99.9" "CPU us" "ALTS/"
    printf '   %-9s %6s %8s %6s %9s %9s %7s %8s %8s %8s %8s %8s %8s %6s\n' "" "" "" "" "" "" "" ms ms ms ms ms /RPC this
    for security in plaintext alts; do
        line=$(median_line "$security")
        printf '   %-9s %6s %8s %6s %9s %9s %7s %8s %8s %8s %8s %8s %8s %6s\n' "$security" "$(field connected "$line")" \
            "$(field rpcs "$line")" "$(field errors "$line")" "$(field connect_phase_s "$line")" "$(field rpc_phase_s "$line")" \
            "$(field rpcs_per_s "$line")" "$(field connect_p50_ms "$line")" "$(field connect_p99_ms "$line")" \
            "$(field rpc_p50_ms "$line")" "$(field rpc_p99_ms "$line")" "$(field rpc_p999_ms "$line")" \
            "$(field cpu_us_per_rpc "$line")" "$(ratio "$(field rpcs_per_s "$alts_line")" "$(field rpcs_per_s "$line")")"
    done
    echo "   every round's RPC/s (alts / plaintext): $(for s in alts plaintext; do
        while read -r l; do field rpcs_per_s "$l"; done <"$work/results-$s" | paste -sd, -; done | paste -sd/ -)"
    echo "   errors over all $((2 * ROUNDS)) runs (connects + RPCs): $(cat "$work"/results-* | while read -r l; do field errors "$l"; done \
        | awk '{ n += $1 } END { print n }'); RPCs the servers answered: alts ${served[alts]}, plaintext ${served[plaintext]}"
    ratios+=("load_alts_vs_plaintext=$(ratio "$(field rpcs_per_s "$alts_line")" "$(field rpcs_per_s "$plaintext_line")")")
fi

# --- B. Proxy soak ---------------------------------------------------------------------------
if [[ $PARTS == *soak* ]]; then
    proxy_bin=$(release_bin_path alts-proxy)
    read -r HTTPBIN_PORT CLIENT_PORT SERVER_PORT CLIENT_ADMIN SERVER_ADMIN < <(free_ports 5)
    proxy_identities "$proxy_bin"
    start_httpbin "$proxy_bin" "$HTTPBIN_PORT"
    start_proxy_pair "$proxy_bin" "$HTTPBIN_PORT" "$CLIENT_PORT" "$SERVER_PORT" "$CLIENT_ADMIN" "$SERVER_ADMIN"
    for p in "$HTTPBIN_PORT" "$CLIENT_PORT"; do wait_ready "$p"; done
    check_alts_identity "$CLIENT_PORT"
    fds() { find "/proc/$1/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }
    sample() { # label
        for pid in "$proxy_server_pid" "$proxy_client_pid"; do
            [[ -e /proc/$pid/status ]] || { echo "an alts-proxy (PID $pid) exited during the soak:" >&2; cat "$work"/*-proxy.log >&2; exit 1; }
        done
        echo "$1 $(rss_kib "$proxy_server_pid") $(rss_kib "$proxy_client_pid") $(fds "$proxy_server_pid") $(fds "$proxy_client_pid")" >>"$work/samples"
    }
    load_before_soak=$(cut -d' ' -f1-3 /proc/loadavg)
    timeout $((SOAK_SECONDS + 120)) wrk -t2 -c"$WRK_CONNECTIONS" -d"${SOAK_SECONDS}s" --latency "http://127.0.0.1:$CLIENT_PORT/hello" \
        >"$work/wrk.out" 2>&1 &
    wrk_pid=$!
    server_pids+=("$wrk_pid")
    start=$(date +%s.%N)
    for t in $(seq 0 "$SAMPLE_SECONDS" $((SOAK_SECONDS - 1))); do
        sleep "$(awk -v s="$start" -v t="$t" -v now="$(date +%s.%N)" 'BEGIN { d = s + t - now; printf "%.3f", (d > 0 ? d : 0) }')"
        kill -0 "$wrk_pid" 2>/dev/null || { echo "wrk ended early:" >&2; cat "$work/wrk.out" >&2; exit 1; }
        sample "$t"
    done
    wait "$wrk_pid" || { echo "wrk failed:" >&2; cat "$work/wrk.out" >&2; exit 1; }
    sample "$SOAK_SECONDS"

    # wrk's totals.
    read -r requests non2xx socket_errors rps p50 p99 < <(awk '
        function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
        / requests in / { requests = $1 }
        /Non-2xx or 3xx responses:/ { non2xx = $NF }
        /Socket errors:/ { gsub(",", ""); socket = $4 + $6 + $8 + $10 }
        /Requests\/sec:/ { rps = $2 }
        /^ +50%/ { p50 = ms($2) }
        /^ +99%/ { p99 = ms($2) }
        END { printf "%d %d %d %d %.3f %.3f\n", requests, non2xx, socket, rps, p50, p99 }' "$work/wrk.out")
    # What the proxies counted: requests by response code, and ALTS handshakes.
    stats() { curl -s "http://127.0.0.1:$2/stats" | grep -E "^alts_proxy_($3)" | sed "s/^alts_proxy_/     $1: /"; }

    base() { awk -v t="$BASELINE_SECONDS" -v col="$1" '$1 == t { print $col }' "$work/samples"; }
    last() { tail -1 "$work/samples" | awk -v col="$1" '{ print $col }'; }
    growth() { awk -v a="$(base "$1")" -v b="$(last "$1")" 'BEGIN { printf "%.4f", (b - a) / a }'; }
    peak() { awk -v t="$BASELINE_SECONDS" -v col="$1" '$1 >= t && $col > m { m = $col } END { print m }' "$work/samples"; }
    percent() { awk -v g="$1" 'BEGIN { printf "%+.1f%%", g * 100 }'; }
    server_growth=$(growth 2)
    client_growth=$(growth 3)
    worst=$(awk -v a="$server_growth" -v b="$client_growth" 'BEGIN { print (a > b ? a : b) }')

    echo
    echo "B. soak: wrk -t2 -c$WRK_CONNECTIONS -d${SOAK_SECONDS}s GET /hello (13-byte body) through the alts-proxy pair" \
        "(load average before: $load_before_soak)"
    printf '   %-9s %9s %9s %9s %7s %7s %8s\n' requests "req/s" "non-2xx" "sock err" "p50 ms" "p99 ms" "errors"
    printf '   %-9s %9s %9s %9s %7s %7s %8s\n' "$requests" "$rps" "$non2xx" "$socket_errors" "$p50" "$p99" $((non2xx + socket_errors))
    echo "   the proxies' counters at the end (/stats; they include the script's few readiness checks):"
    stats client "$CLIENT_ADMIN" 'http_requests_total|upstream_connect_failures|handshakes_total'
    stats server "$SERVER_ADMIN" 'http_requests_total|handshakes_total'
    echo "   samples every ${SAMPLE_SECONDS}s (the t=$SOAK_SECONDS row after wrk finished); RSS in KiB:"
    printf '   %6s %12s %12s %10s %10s\n' t_s server_rss client_rss server_fds client_fds
    while read -r t s c sf cf; do printf '   %6s %12s %12s %10s %10s\n' "$t" "$s" "$c" "$sf" "$cf"; done <"$work/samples"
    echo "   RSS growth, t=$SOAK_SECONDS vs t=$BASELINE_SECONDS: server proxy $(percent "$server_growth")" \
        "($(base 2) -> $(last 2) KiB, peak $(peak 2)), client proxy $(percent "$client_growth")" \
        "($(base 3) -> $(last 3) KiB, peak $(peak 3)); limit +10.0%"
    if ((non2xx + socket_errors > 0)); then
        echo "wrk saw $non2xx non-2xx responses and $socket_errors socket errors:" >&2; cat "$work/wrk.out" >&2; exit 1
    fi
    ratios+=("soak_rss_growth_headroom=$(ratio 1.10 "$(awk -v g="$worst" 'BEGIN { print 1 + g }')")")
fi

echo "ratios: ${ratios[*]}"
