#!/usr/bin/env bash
# Unary gRPC echo over ALTS against plaintext and against TLS 1.3 mutual authentication, all
# measured in the same run with the same grpc-swift server and client code.
# Ours: `alts-bench grpc-server --security S` and `alts-bench grpc-client --security S`, two
# processes on loopback, one HTTP/2 connection, 1 and then CONCURRENCY RPCs always in flight,
# message "hello world". S is alts (in-process handshaker, credentials from altsctl), plaintext,
# or mtls (NIOSSL, P-256 ECDSA certificates from one CA, the server demanding a client
# certificate). Each (S, in-flight) pair runs ROUNDS times, interleaved so that load from other
# processes falls on all three alike; the round with the median QPS is reported, with the CPU
# both processes spent per RPC (less disturbed by other load than QPS is).
# Last line: ratios: vs_plaintext=R vs_mtls=R (ALTS QPS / that QPS at CONCURRENCY in flight;
# higher is better).
source "$(dirname "$0")/common.sh"
SECONDS_EACH=${SECONDS_EACH:-2}
WARMUP=${WARMUP:-0.5}
ROUNDS=${ROUNDS:-7}
CONCURRENCY=${CONCURRENCY:-64}
MESSAGE=${MESSAGE:-hello world}
PROJECT=grpc-bench
SECURITIES=(alts plaintext mtls)

bin=$(release_bin_path alts-bench)
ctl=$(release_bin_path altsctl)

# --- Credentials ----------------------------------------------------------------------------
"$ctl/altsctl" projects create "$PROJECT" --dir "$work/projects" >/dev/null
for role in server client; do
    "$ctl/altsctl" service-accounts create "alts-$role" --project "$PROJECT" --dir "$work/projects" \
        --out "$work/alts-$role" >/dev/null
done
tls=$work/tls
mkdir "$tls"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=grpc-bench-ca -days 2 \
    -keyout "$tls/ca.key" -out "$tls/ca.pem" 2>/dev/null
# The client verifies the server fully (chain and name), so the server certificate names 127.0.0.1.
printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >"$tls/server.ext"
printf 'extendedKeyUsage=clientAuth\n' >"$tls/client.ext"
serial=1
for role in server client; do
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=grpc-bench-$role" \
        -keyout "$tls/$role.key" -out "$tls/$role.csr" 2>/dev/null
    openssl x509 -req -in "$tls/$role.csr" -CA "$tls/ca.pem" -CAkey "$tls/ca.key" -set_serial $((serial++)) \
        -days 1 -extfile "$tls/$role.ext" -out "$tls/$role.pem" 2>/dev/null
done

# --- Servers, one per security, all idle until their client runs ----------------------------
declare -A port server_pid client_args
for security in "${SECURITIES[@]}"; do
    "$bin/alts-bench" grpc-server --security "$security" --credentials "$work/alts-server" --tls-dir "$tls" \
        >"$work/server-$security.out" 2>"$work/server-$security.err" &
    server_pids+=("$!")
    server_pid[$security]=$!
    port[$security]=$(await_line "$work/server-$security.out" 's/^listening port=//p')
done
client_args[alts]="--credentials $work/alts-client --server-account alts-server@$PROJECT.iam.gserviceaccount.com"
client_args[plaintext]=""
client_args[mtls]="--tls-dir $tls"

# Runs grpc-client against the $1 server with the remaining arguments; keeps its output in
# $work/client.log and prints its last line (the result), or fails with its errors.
client() {
    local security=$1; shift
    # shellcheck disable=SC2086 # client_args holds several words on purpose
    if ! "$bin/alts-bench" grpc-client --security "$security" --port "${port[$security]}" ${client_args[$security]} \
        --message "$MESSAGE" "$@" >"$work/client.log" 2>&1; then
        echo "alts-bench grpc-client --security $security $* failed:" >&2; tail -5 "$work/client.log" >&2
        return 1
    fi
    tail -1 "$work/client.log"
}

# --- Checks: mTLS really is mutual TLS 1.3 ---------------------------------------------------
client mtls --probe >/dev/null
if client mtls --probe --omit-client-certificate >/dev/null 2>&1; then
    echo "the mTLS server answered a client that presented no certificate" >&2; exit 1
fi
refusal=$(grep -oE 'TLSV1_ALERT_[A-Z_]+' "$work/client.log" | head -1)
# s_client offers TLS 1.2 and 1.3 and lists the TLS 1.3 suites in the order swift-nio-ssl's
# BoringSSL client uses on AES-NI hardware, so this shows what the benchmark's connection gets.
tls_session=$(openssl s_client -connect "127.0.0.1:${port[mtls]}" -brief -alpn h2 -CAfile "$tls/ca.pem" \
    -cert "$tls/client.pem" -key "$tls/client.key" \
    -ciphersuites TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256 </dev/null 2>&1 | tr -d '\0')
tls_version=$(sed -n 's/^Protocol version: //p' <<<"$tls_session")
tls_cipher=$(sed -n 's/^Ciphersuite: //p' <<<"$tls_session")
if [[ $tls_version != TLSv1.3 ]]; then
    echo "the mTLS server did not negotiate TLS 1.3:" >&2; echo "$tls_session" >&2; exit 1
fi

# --- Measurements ---------------------------------------------------------------------------
ticks_per_s=$(getconf CLK_TCK)
for round in $(seq "$ROUNDS"); do
    for inflight in 1 "$CONCURRENCY"; do
        # Each round starts with a different security, so none always runs first or last.
        for offset in 0 1 2; do
            security=${SECURITIES[$(((round + offset) % 3))]}
            before=$(cpu_ticks "${server_pid[$security]}")
            line=$(client "$security" --concurrency "$inflight" --seconds "$SECONDS_EACH" --warmup "$WARMUP")
            server_ms=$((($(cpu_ticks "${server_pid[$security]}") - before) * 1000 / ticks_per_s))
            # Both processes' CPU over the whole client run, per RPC completed in it.
            cpu_per_rpc=$(awk -v c="$(field cpu_ms "$line")" -v s="$server_ms" -v n="$(field rpcs_all "$line")" \
                'BEGIN { printf "%d", (c + s) * 1000 / n }')
            echo "$line cpu_us_per_rpc=$cpu_per_rpc" >>"$work/results-$security-$inflight"
        done
    done
done
for pid in "${server_pids[@]}"; do kill -TERM "$pid"; wait "$pid" || true; done
server_pids=()

# The line of the round with the median QPS.
median_line() { sort -t= -k2 -n "$work/results-$1-$2" | sed -n "$(((ROUNDS + 1) / 2))p"; }

# --- Report ---------------------------------------------------------------------------------
echo "machine: $(nproc) cores (client and server processes share them), $(openssl version | cut -d' ' -f1-2)," \
    "$(swift --version 2>&1 | head -1 | sed 's/ (.*//')"
echo "unary echo \"$MESSAGE\", 1 connection; median of $ROUNDS rounds of $SECONDS_EACH s after $WARMUP s warm-up"
echo "CPU: client + server process CPU per RPC; cores: QPS x CPU, below $(nproc) when other load took the rest"
printf '%-10s %9s %8s %8s %8s %11s %6s %12s\n' "security" "in flight" "QPS" "p50 us" "p99 us" "CPU us/RPC" "cores" "ALTS / this"
for inflight in 1 "$CONCURRENCY"; do
    alts_qps=$(field qps "$(median_line alts "$inflight")")
    for security in plaintext mtls alts; do
        line=$(median_line "$security" "$inflight")
        qps=$(field qps "$line")
        cpu=$(field cpu_us_per_rpc "$line")
        printf '%-10s %9s %8s %8s %8s %11s %6s %12s\n' "$security" "$inflight" "$qps" "$(field p50_us "$line")" \
            "$(field p99_us "$line")" "$cpu" "$(awk -v q="$qps" -v c="$cpu" 'BEGIN { printf "%.2f", q * c / 1e6 }')" \
            "$(ratio "$alts_qps" "$qps")"
    done
done
echo "QPS of every round (alts / plaintext / mtls) at $CONCURRENCY in flight:" \
    "$(for s in alts plaintext mtls; do field qps "$(cat "$work/results-$s-$CONCURRENCY")" | paste -sd, -; done | paste -sd/ -)"
echo "checked: mTLS is $tls_version $tls_cipher; a client without a certificate was refused ($refusal);" \
    "the ALTS client required the server to be alts-server@$PROJECT"
alts=$(field qps "$(median_line alts "$CONCURRENCY")")
echo "ratios: vs_plaintext=$(ratio "$alts" "$(field qps "$(median_line plaintext "$CONCURRENCY")")")" \
    "vs_mtls=$(ratio "$alts" "$(field qps "$(median_line mtls "$CONCURRENCY")")")"
