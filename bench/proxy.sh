#!/usr/bin/env bash
# alts-proxy against a stunnel TLS 1.3 mutual-auth pair and against no proxy at all, on this
# machine, in one run:
#   1. req/s and latency for a 13-byte body (httpbin /hello), wrk with keep-alive;
#   2. bulk MB/s for a 256 MiB download (curl, best of 3);
#   3. RSS per idle ALTS connection on the server proxy, with 10,000 connections held open.
# Both secure paths use AES-128-GCM (stunnel is pinned to TLS_AES_128_GCM_SHA256), two
# processes, and the same httpbin behind. The proxies handshake in process
# (--alts-credentials): the handshaker service's cost is bench/handshaker.sh's subject.
# Last line: `ratios: rps_vs_stunnel=R bulk_vs_stunnel=R` (ours / stunnel, higher is better).
# Needs: swift, wrk, curl, stunnel4, openssl, python3 (apt-get install wrk curl stunnel4).
source "$(dirname "$0")/common.sh"
source "$(dirname "$0")/proxy-common.sh"

DURATION=${DURATION:-8}        # seconds per wrk run
CONNECTIONS=${CONNECTIONS:-32} # wrk connections
BULK_BYTES=$((256 * 1024 * 1024))
IDLE_CONNECTIONS=${IDLE_CONNECTIONS:-10000}

for tool in wrk curl stunnel4 openssl python3; do
    command -v "$tool" >/dev/null || { echo "bench/proxy.sh needs $tool (apt-get install wrk curl stunnel4 openssl python3)" >&2; exit 1; }
done
# 10,000 held connections: python 10,000 descriptors, the server proxy 10,000, and each of
# two tunnel proxies 2 x 5,000 (two, so that each stays under a 20,000 hard limit).
ulimit -n "$(ulimit -Hn)"
(($(ulimit -n) > IDLE_CONNECTIONS + 1000)) || { echo "bench/proxy.sh: open-file limit $(ulimit -n) is too low for $IDLE_CONNECTIONS connections" >&2; exit 1; }

bin=$(release_bin_path alts-proxy)
release_bin_path httpbin >/dev/null
release_bin_path altsctl >/dev/null

read -r HTTPBIN_PORT CLIENT_PORT SERVER_PORT CLIENT_ADMIN SERVER_ADMIN TUNNEL_PORT TUNNEL_PORT2 STUNNEL_CLIENT STUNNEL_SERVER < <(free_ports 9)

# --- Identities: two service accounts for ALTS; a CA, a server and a client cert for TLS ---
proxy_identities "$bin"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=bench-ca \
    -keyout "$work/ca.key" -out "$work/ca.pem" 2>/dev/null
for side in server client; do
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$side" \
        -keyout "$work/$side.key" -out "$work/$side.csr" 2>/dev/null
    openssl x509 -req -in "$work/$side.csr" -CA "$work/ca.pem" -CAkey "$work/ca.key" -CAcreateserial -days 1 \
        -extfile <(printf 'subjectAltName=DNS:%s\n' "$side") -out "$work/$side.pem" 2>/dev/null
done

# --- The servers -------------------------------------------------------------------------
start_httpbin "$bin" "$HTTPBIN_PORT"
start_proxy_pair "$bin" "$HTTPBIN_PORT" "$CLIENT_PORT" "$SERVER_PORT" "$CLIENT_ADMIN" "$SERVER_ADMIN"
server_pid=$proxy_server_pid
for tunnel in 1 2; do
    port=$TUNNEL_PORT
    ((tunnel == 2)) && port=$TUNNEL_PORT2
    alts_yaml tcp_in "$port" 0 'filters: [ { name: envoy.filters.network.tcp_proxy, typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy, stat_prefix: tunnel, cluster: upstream } } ]' \
        "$SERVER_PORT" "$(alts_socket alts-server)" >"$work/tunnel$tunnel.yaml"
done

cat >"$work/stunnel-server.conf" <<CONF
foreground = yes
pid =
debug = 3
[server]
accept = 127.0.0.1:$STUNNEL_SERVER
connect = 127.0.0.1:$HTTPBIN_PORT
cert = $work/server.pem
key = $work/server.key
CAfile = $work/ca.pem
verifyChain = yes
requireCert = yes
sslVersionMin = TLSv1.3
ciphersuites = TLS_AES_128_GCM_SHA256
CONF
cat >"$work/stunnel-client.conf" <<CONF
foreground = yes
pid =
debug = 3
[client]
client = yes
accept = 127.0.0.1:$STUNNEL_CLIENT
connect = 127.0.0.1:$STUNNEL_SERVER
cert = $work/client.pem
key = $work/client.key
CAfile = $work/ca.pem
verifyChain = yes
checkHost = server
sslVersionMin = TLSv1.3
ciphersuites = TLS_AES_128_GCM_SHA256
CONF
stunnel4 "$work/stunnel-server.conf" 2>"$work/stunnel-server.log" &
server_pids+=($!)
stunnel4 "$work/stunnel-client.conf" 2>"$work/stunnel-client.log" &
server_pids+=($!)

for port in "$HTTPBIN_PORT" "$CLIENT_PORT" "$STUNNEL_CLIENT"; do wait_ready "$port"; done
# Both secure paths really are what they claim: the identity reached httpbin over ALTS, and
# stunnel negotiated TLS 1.3 with the client certificate.
check_alts_identity "$CLIENT_PORT"

# --- 1. req/s and latency ----------------------------------------------------------------
# wrk_run port -> "rps p50_ms p99_ms"
wrk_run() {
    wrk -t1 -c"$CONNECTIONS" -d1s "http://127.0.0.1:$1/hello" >/dev/null # warm-up
    wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" --latency "http://127.0.0.1:$1/hello" >"$work/wrk.out"
    awk '
        function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
        /Requests\/sec:/ { rps = $2 }
        /^ +50%/ { p50 = ms($2) }
        /^ +99%/ { p99 = ms($2) }
        /Non-2xx|Socket errors/ { bad = 1 }
        END { if (bad) print "errors"; else printf "%d %.3f %.3f\n", rps, p50, p99 }' "$work/wrk.out"
}
read -r direct_rps direct_p50 direct_p99 < <(wrk_run "$HTTPBIN_PORT")
read -r ours_rps ours_p50 ours_p99 < <(wrk_run "$CLIENT_PORT")
read -r stunnel_rps stunnel_p50 stunnel_p99 < <(wrk_run "$STUNNEL_CLIENT")
for value in "$direct_rps" "$ours_rps" "$stunnel_rps"; do
    [[ $value =~ ^[0-9]+$ ]] || { echo "wrk reported errors:" >&2; cat "$work/wrk.out" >&2; exit 1; }
done

# --- 2. bulk download ----------------------------------------------------------------------
bulk_run() { # port -> best bytes/s of 3
    local best=0 rate
    for _ in 1 2 3; do
        rate=$(curl -s -o /dev/null -w '%{size_download} %{speed_download}' "http://127.0.0.1:$1/bytes/$BULK_BYTES" \
            | awk -v want="$BULK_BYTES" '$1 == want { printf "%d", $2 }')
        [[ -n $rate ]] || { echo "a 256 MiB download through port $1 came back short" >&2; exit 1; }
        ((rate > best)) && best=$rate
    done
    echo "$best"
}
direct_bulk=$(bulk_run "$HTTPBIN_PORT")
ours_bulk=$(bulk_run "$CLIENT_PORT")
stunnel_bulk=$(bulk_run "$STUNNEL_CLIENT")

# --- 3. RSS per idle ALTS connection -------------------------------------------------------
# A tcp_proxy alts-proxy opens one ALTS connection to the server proxy per accepted TCP
# connection; python holds IDLE_CONNECTIONS of them open through two such proxies, idle,
# while the server proxy's RSS is read. Connections are opened in batches, each batch's handshakes finished (counted in the
# server's /stats) before the next, so nothing times out on a 2-core machine.
for tunnel in 1 2; do
    "$bin/alts-proxy" -c "$work/tunnel$tunnel.yaml" --alts-credentials "$work/client-sa" 2>"$work/tunnel$tunnel-proxy.log" &
    server_pids+=($!)
    await_line "$work/tunnel$tunnel-proxy.log" 's/.*listener tcp_in listening on //p' >/dev/null
done
handshakes_ok() {
    curl -s "http://127.0.0.1:$SERVER_ADMIN/stats" \
        | awk '/alts_proxy_handshakes_total\{side="downstream",name="alts_in",result="ok"\}/ { print $2 }'
}
baseline_handshakes=$(handshakes_ok)
baseline_handshakes=${baseline_handshakes:-0}
rss_before=$(rss_kib "$server_pid")
cat >"$work/hold.py" <<'PY'
import socket, sys, time, urllib.request
ports, count, admin, baseline = [int(p) for p in sys.argv[1].split(",")], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
def handshakes():
    for line in urllib.request.urlopen(f"http://127.0.0.1:{admin}/stats").read().decode().splitlines():
        if line.startswith('alts_proxy_handshakes_total{side="downstream",name="alts_in",result="ok"}'):
            return int(float(line.split()[-1]))
    return 0
held = []
while len(held) < count:
    batch = min(500, count - len(held))
    for _ in range(batch):
        held.append(socket.create_connection(("127.0.0.1", ports[len(held) % len(ports)])))
    deadline = time.time() + 60
    while handshakes() - baseline < len(held):
        if time.time() > deadline:
            sys.exit(f"only {handshakes() - baseline} of {len(held)} handshakes finished")
        time.sleep(0.05)
print("held", len(held), flush=True)
sys.stdin.readline()
PY
coproc HOLD { python3 "$work/hold.py" "$TUNNEL_PORT,$TUNNEL_PORT2" "$IDLE_CONNECTIONS" "$SERVER_ADMIN" "$baseline_handshakes"; }
read -r -t 600 held_word held_count <&"${HOLD[0]}" || { echo "holding $IDLE_CONNECTIONS connections failed" >&2; cat "$work"/tunnel*-proxy.log >&2; exit 1; }
sleep 1
rss_held=$(rss_kib "$server_pid")
echo done >&"${HOLD[1]}"
wait "$HOLD_PID" 2>/dev/null || true
per_connection=$(awk -v a="$rss_before" -v b="$rss_held" -v n="$held_count" 'BEGIN { printf "%.1f", (b - a) / n }')

# --- Report --------------------------------------------------------------------------------
echo "machine: $(nproc) cores, $(awk '/model name/ { $1=$2=$3=""; print; exit }' /proc/cpuinfo | sed 's/^ *//')"
echo "wrk -t1 -c$CONNECTIONS -d${DURATION}s GET /hello (13-byte body), keep-alive:"
printf '  %-36s %10s %10s %10s\n' path req/s p50_ms p99_ms
printf '  %-36s %10s %10s %10s\n' "direct (no proxy)" "$direct_rps" "$direct_p50" "$direct_p99"
printf '  %-36s %10s %10s %10s\n' "alts-proxy pair (ALTS, AES-128-GCM)" "$ours_rps" "$ours_p50" "$ours_p99"
printf '  %-36s %10s %10s %10s\n' "stunnel pair (TLS 1.3, AES-128-GCM)" "$stunnel_rps" "$stunnel_p50" "$stunnel_p99"
echo "curl GET /bytes/$BULK_BYTES (best of 3):"
printf '  %-36s %10s MB/s\n' "direct (no proxy)" "$(mbps "$direct_bulk")"
printf '  %-36s %10s MB/s\n' "alts-proxy pair" "$(mbps "$ours_bulk")"
printf '  %-36s %10s MB/s\n' "stunnel pair" "$(mbps "$stunnel_bulk")"
echo "idle ALTS connections held on the server proxy: $held_count"
echo "  server proxy RSS: $rss_before KiB before, $rss_held KiB with them open: $per_connection KiB per connection"
echo "ratios: rps_vs_stunnel=$(ratio "$ours_rps" "$stunnel_rps") bulk_vs_stunnel=$(ratio "$ours_bulk" "$stunnel_bulk")"
