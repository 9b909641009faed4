# The alts-proxy pair set-up shared by bench/proxy.sh and bench/load.sh. Source it after
# common.sh; do not run it.
#   httpbin <- server alts-proxy (ALTS listener) <- client alts-proxy (plain HTTP listener,
#   ALTS upstream) <- the benchmark's HTTP client
# Both proxies handshake in process (--alts-credentials), with accounts alts-server and
# alts-client of project `bench`.

# Prints N free loopback ports (bound and released at once; nothing else binds on loopback here).
free_ports() {
    python3 -c '
import socket, sys
socks = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in socks: s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in socks])' "$1"
}

# Project `bench` and the service accounts alts-server and alts-client ($work/server-sa,
# $work/client-sa). $1: the directory holding altsctl.
proxy_identities() {
    "$1/altsctl" projects create bench --dir "$work/projects" >/dev/null
    "$1/altsctl" service-accounts create alts-server --project bench --dir "$work/projects" --out "$work/server-sa" >/dev/null
    "$1/altsctl" service-accounts create alts-client --project bench --dir "$work/projects" --out "$work/client-sa" >/dev/null
}

# Starts httpbin on port $2 ($1: the directory holding it) and waits until it listens.
start_httpbin() {
    "$1/httpbin" --listen "127.0.0.1:$2" 2>"$work/httpbin.log" &
    server_pids+=($!)
    await_line "$work/httpbin.log" 's/.*httpbin listening on //p' >/dev/null
}

alts_yaml() { # name port admin_port filter cluster_port cluster_socket
    cat <<YAML
admin: { address: { socket_address: { address: 127.0.0.1, port_value: $3 } } }
static_resources:
  listeners:
  - name: $1
    address: { socket_address: { address: 127.0.0.1, port_value: $2 } }
    filter_chains:
    - $4
  clusters:
  - name: upstream
    type: STATIC
    load_assignment: { endpoints: [ { lb_endpoints: [ { endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: $5 } } } } ] } ] }
    $6
YAML
}
hcm='filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: bench
          route_config: { virtual_hosts: [ { name: all, domains: ["*"], routes: [ { match: { prefix: "/" }, route: { cluster: upstream, timeout: 0s } } ] } ] }
          http_filters: [ { name: envoy.filters.http.router, typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router } } ]'
alts_socket() {
    echo "transport_socket: { name: envoy.transport_sockets.alts, typed_config: { \"@type\": type.googleapis.com/envoy.extensions.transport_sockets.alts.v3.Alts, handshaker_service: \"127.0.0.1:8080\", peer_service_accounts: [ \"$1@bench.iam.gserviceaccount.com\" ] } }"
}

# Writes $work/server.yaml and $work/client.yaml and starts the pair; sets proxy_server_pid
# and proxy_client_pid. $1: the directory holding alts-proxy; then the ports: httpbin, the
# client proxy's HTTP listener, the server proxy's ALTS listener, the client's and the
# server's admin.
start_proxy_pair() {
    local bin=$1 httpbin_port=$2 client_port=$3 server_port=$4 client_admin=$5 server_admin=$6
    alts_yaml alts_in "$server_port" "$server_admin" "$(alts_socket alts-client)
      $hcm" "$httpbin_port" "" >"$work/server.yaml"
    alts_yaml http_in "$client_port" "$client_admin" "$hcm" "$server_port" "$(alts_socket alts-server)" >"$work/client.yaml"
    "$bin/alts-proxy" -c "$work/server.yaml" --alts-credentials "$work/server-sa" -l warning 2>"$work/server-proxy.log" &
    proxy_server_pid=$!
    server_pids+=($!)
    "$bin/alts-proxy" -c "$work/client.yaml" --alts-credentials "$work/client-sa" -l warning 2>"$work/client-proxy.log" &
    proxy_client_pid=$!
    server_pids+=($!)
}

wait_ready() { # port: until a GET /hello through it answers 200
    for _ in $(seq 100); do
        [[ $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$1/hello") == 200 ]] && return
        sleep 0.1
    done
    echo "nothing answers on 127.0.0.1:$1" >&2
    cat "$work"/*.log >&2
    exit 1
}

# Fails unless the client's identity reached httpbin through the pair whose client listens on $1.
check_alts_identity() {
    curl -s "http://127.0.0.1:$1/headers" | grep -q '"X-Alts-Peer-Service-Account" : "alts-client@bench.iam.gserviceaccount.com"' \
        || { echo "the ALTS path did not carry the client's identity" >&2; exit 1; }
}

rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
