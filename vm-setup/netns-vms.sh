#!/usr/bin/env bash
# Two "VMs" on one machine: network namespaces joined by a veth pair, each with its own
# /etc/hosts and /etc/alts, standing in for the seed's two Compute Engine VMs.
set -euo pipefail

SCRIPT_NAME=netns-vms.sh
# shellcheck source=vm-setup/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

usage() {
    cat <<USAGE
usage: $SCRIPT_NAME up|demo|http-demo|down

  up     create the namespaces ${NETNS_PREFIX:-}alts-server and ${NETNS_PREFIX:-}alts-client, joined by a veth
         pair ($SERVER_IP/24 and $CLIENT_IP/24, reachable only from inside them); issue
         credentials for project \$PROJECT and install them as each namespace's /etc/alts;
         copy \`server\` and \`client\` onto their "VM"
  demo   run \`server\` in ${NETNS_PREFIX:-}alts-server, then \`client --addr alts-server:$PORT\` in
         ${NETNS_PREFIX:-}alts-client, print both sides' output and stop the server (runs \`up\` first
         if needed); exits with the client's status
  http-demo
         the seed's second half: in ${NETNS_PREFIX:-}alts-server a handshaker (127.0.0.1:8080), httpbin
         (127.0.0.1:8000) and \`alts-proxy -c server.yaml\` (:18081); in ${NETNS_PREFIX:-}alts-client a
         handshaker and \`alts-proxy -c client.yaml\` (:18080); then \`curl http://localhost:18080/get\`
         in ${NETNS_PREFIX:-}alts-client, which must show that httpbin saw the client's service account.
         Prints each process's log and curl's output, stops them all (runs \`up\` first if needed)
  down   remove the namespaces, their veth pair, /etc/netns entries and state; safe to repeat

Needs root and iproute2's \`ip netns\`.

Environment:
  PROJECT          project to issue the two service accounts in (default: alts-netns-demo)
  NETNS_PREFIX     prefix of the namespace names, so several pairs can coexist (default: none)
  NETNS_STATE_DIR  where the "VMs'" binaries and the project CA live
                   (default: /var/lib/swift-alts-netns)
  SWIFT_ALTS_BIN   directory with prebuilt altsctl, server, client, handshaker, alts-proxy and
                   httpbin (default: a debug
                   \`swift build\` of them)
USAGE
}

PREFIX=${NETNS_PREFIX:-}
PROJECT=${PROJECT:-alts-netns-demo}
SERVER_NS=${PREFIX}alts-server
CLIENT_NS=${PREFIX}alts-client
# Addresses exist only on the veth ends inside the two namespaces: no route leaves them.
SERVER_IP=10.250.0.1
CLIENT_IP=10.250.0.2
PORT=50051
STATE_ROOT=${NETNS_STATE_DIR:-/var/lib/swift-alts-netns}
STATE=$STATE_ROOT/${PREFIX}alts
SERVER_ACCOUNT=alts-server@$PROJECT.iam.gserviceaccount.com
CLIENT_ACCOUNT=alts-client@$PROJECT.iam.gserviceaccount.com
# `ip netns exec` bind-mounts /etc/netns/NS/alts onto /etc/alts, which must therefore exist on
# the host. When this script had to create it, this file remembers that, so that the last
# `down` removes it again.
ETC_ALTS_MARKER=/etc/netns/.swift-alts-created-etc-alts
# Serialises the host-wide part (/etc/alts, /etc/netns) between concurrent pairs.
LOCK_FILE=/run/lock/swift-alts-netns.lock

check_settings() {
    [[ $PREFIX =~ ^[a-z0-9-]{0,32}$ ]] || die "NETNS_PREFIX='$PREFIX': use up to 32 characters of [a-z0-9-]"
    [[ $STATE_ROOT == /?* ]] || die "NETNS_STATE_DIR='$STATE_ROOT' must be an absolute path"
}

require_host() {
    [[ $EUID -eq 0 ]] || die "must run as root (network namespaces and /etc/netns need it); try: sudo $0 $1"
    command -v ip >/dev/null 2>&1 || die "ip (iproute2) is not installed; apt-get install iproute2"
    ip netns list >/dev/null 2>&1 || die "'ip netns' does not work here (no network namespace support?)"
}

netns_exists() { ip netns list | awk '{ print $1 }' | grep -qxF -- "$1"; }

with_host_lock() {
    mkdir -p "$(dirname "$LOCK_FILE")"
    (
        flock -w 60 9 || die "could not lock $LOCK_FILE"
        "$@"
    ) 9>"$LOCK_FILE"
}

prepare_etc_alts_mountpoint() {
    if [[ ! -e /etc/alts ]]; then
        mkdir -p /etc/netns
        mkdir -m 0755 /etc/alts
        touch "$ETC_ALTS_MARKER"
        note "created an empty /etc/alts: the mount point for each namespace's own /etc/alts (removed by down)"
    fi
    [[ -d /etc/alts ]] || die "/etc/alts exists but is not a directory; ip netns exec cannot mount credentials on it"
}

# The last pair to go down removes what the first one created; a user's own /etc/alts, or one
# still holding files, stays.
release_etc_alts_mountpoint() {
    local entry
    for entry in /etc/netns/*/alts; do
        [[ -e $entry ]] && return 0
    done
    if [[ -e $ETC_ALTS_MARKER ]]; then
        if [[ -d /etc/alts ]] && ! mountpoint -q /etc/alts && rmdir /etc/alts 2>/dev/null; then
            note "removed the empty /etc/alts mount point"
        fi
        rm -f "$ETC_ALTS_MARKER"
    fi
    rmdir /etc/netns 2>/dev/null || true
}

# install_credentials SRC DEST: the CREDDIR layout of docs/CREDENTIALS.md, key mode 0600.
install_credentials() {
    local src=$1 dest=$2
    install -d -m 0700 "$dest" "$dest/trust-bundle"
    install -m 0644 "$src/service-account.pem" "$dest/service-account.pem"
    install -m 0600 "$src/service-account.key" "$dest/service-account.key"
    install -m 0644 "$src"/trust-bundle/*.pem "$dest/trust-bundle/"
}

write_hosts() {
    local ns=$1
    cat >"/etc/netns/$ns/hosts" <<HOSTS
# Network namespace $ns ($SCRIPT_NAME): \`ip netns exec\` mounts this over /etc/hosts.
127.0.0.1	localhost
::1	localhost ip6-localhost ip6-loopback
$SERVER_IP	alts-server
$CLIENT_IP	alts-client
HOSTS
}

up_failed() {
    local status=$?
    trap - EXIT
    if [[ $status -ne 0 ]]; then
        note "up failed; removing what it made"
        cmd_down >/dev/null 2>&1 || true
    fi
    exit "$status"
}

# How to run this script again for the same pair, for hints.
self_command() {
    local prefix=""
    [[ -n $PREFIX ]] && prefix="NETNS_PREFIX=$PREFIX "
    printf '%s%s %s' "$prefix" "$0" "$1"
}

cmd_up() {
    require_host up
    if netns_exists "$SERVER_NS" || netns_exists "$CLIENT_NS" || [[ -e $STATE ]]; then
        note "replacing the existing $SERVER_NS/$CLIENT_NS pair"
        cmd_down >/dev/null 2>&1
    fi
    local bin_dir
    bin_dir=$(swift_alts_bin_dir altsctl server client handshaker alts-proxy httpbin)

    trap up_failed EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM

    # The admin workstation: the project CA and the issued credentials. Nothing of it is
    # visible inside the "VMs" except what is installed below.
    install -d -m 0700 "$STATE" "$STATE/admin"
    note "issuing $SERVER_ACCOUNT and $CLIENT_ACCOUNT"
    PROJECTS_DIR=$STATE/admin/projects OUT_DIR=$STATE/admin/credentials ALTSCTL=$bin_dir/altsctl \
        "$HERE/create-service-accounts.sh" "$PROJECT" alts-server alts-client >/dev/null 2>"$STATE/admin/issue.log" ||
        {
            cat -- "$STATE/admin/issue.log" >&2
            die "issuing the service accounts failed"
        }

    with_host_lock prepare_etc_alts_mountpoint

    note "creating namespaces $SERVER_NS ($SERVER_IP) and $CLIENT_NS ($CLIENT_IP)"
    ip netns add "$SERVER_NS"
    ip netns add "$CLIENT_NS"
    # Created directly inside the namespaces, so no interface ever appears on the host and
    # the fixed name eth0 cannot clash with another pair.
    ip link add eth0 netns "$SERVER_NS" type veth peer name eth0 netns "$CLIENT_NS"
    local ns ip role
    for role in server client; do
        if [[ $role == server ]]; then ns=$SERVER_NS ip=$SERVER_IP; else ns=$CLIENT_NS ip=$CLIENT_IP; fi
        ip -n "$ns" link set lo up
        ip -n "$ns" addr add "$ip/24" dev eth0
        ip -n "$ns" link set eth0 up

        # "Copy onto the VM": its binary on its disk, its identity in its /etc/alts.
        install -d -m 0755 "/etc/netns/$ns" "$STATE/$ns/bin" "$STATE/$ns/envoy"
        install -m 0755 "$bin_dir/$role" "$bin_dir/handshaker" "$bin_dir/alts-proxy" "$STATE/$ns/bin/"
        [[ $role == server ]] && install -m 0755 "$bin_dir/httpbin" "$STATE/$ns/bin/"
        # envoy/*.yaml name the demo project; this pair's accounts are in $PROJECT.
        sed "s/@swift-alts-demo\\.iam\\./@$PROJECT.iam./g" "$SWIFT_ALTS_ROOT/envoy/$role.yaml" >"$STATE/$ns/envoy/$role.yaml"
        write_hosts "$ns"
        install_credentials "$STATE/admin/credentials/alts-$role" "/etc/netns/$ns/alts"
    done
    touch "$STATE/up"
    trap - EXIT INT TERM
    note "up: $SERVER_NS runs as $SERVER_ACCOUNT, $CLIENT_NS as $CLIENT_ACCOUNT"
    [[ ${FUNCNAME[1]} == cmd_demo ]] || note "next: $(self_command demo)"
}

demo_exit() {
    local status=$?
    trap - EXIT
    if [[ -n $server_pid ]] && is_running "$server_pid"; then
        stop_process "$server_pid" 5 || true
    fi
    if [[ $status -ne 0 && $brought_up -eq 1 ]]; then
        note "demo failed; removing the namespaces it brought up"
        cmd_down >/dev/null 2>&1 || true
    fi
    exit "$status"
}

cmd_demo() {
    require_host demo
    # Globals, not locals: demo_exit reads them from the EXIT trap.
    brought_up=0
    server_pid=""
    if ! { netns_exists "$SERVER_NS" && netns_exists "$CLIENT_NS" && [[ -e $STATE/up ]]; }; then
        cmd_up
        brought_up=1
    fi

    local server_bin=$STATE/$SERVER_NS/bin/server client_bin=$STATE/$CLIENT_NS/bin/client
    local log=$STATE/demo
    rm -rf -- "$log"
    mkdir -p -- "$log"

    trap demo_exit EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM

    # env -u: each side must find its identity where a VM keeps it, /etc/alts, not in a
    # caller's $ALTS_CREDENTIALS.
    ip netns exec "$SERVER_NS" env -u ALTS_CREDENTIALS "$server_bin" --port "$PORT" \
        >"$log/server.log" 2>&1 </dev/null &
    server_pid=$!
    if ! wait_for_line "$log/server.log" ' listening on ' "$server_pid" 30 >/dev/null; then
        print_section "server ($SERVER_ACCOUNT) in netns $SERVER_NS failed to start" "$log/server.log"
        die "server exited or did not report listening within 30s"
    fi

    local client_args=(--addr "alts-server:$PORT" --targetServiceAccount "$SERVER_ACCOUNT")
    local client_status=0
    ip netns exec "$CLIENT_NS" env -u ALTS_CREDENTIALS "$client_bin" "${client_args[@]}" \
        >"$log/client.out" 2>"$log/client.err" </dev/null || client_status=$?

    # Stopping first makes the server log complete (its AuthInfo lines and "server stopped").
    local server_status=0
    stop_process "$server_pid" || server_status=$?
    server_pid=""

    print_section "server ($SERVER_ACCOUNT) in netns $SERVER_NS at $SERVER_IP:$PORT" "$log/server.log"
    print_section "client ($CLIENT_ACCOUNT) in netns $CLIENT_NS: client ${client_args[*]}" \
        "$log/client.err" "$log/client.out"

    if [[ $client_status -ne 0 ]]; then
        note "client failed (exit status $client_status)"
        exit "$client_status"
    fi
    if [[ $server_status -ne 0 ]]; then
        note "server exited with status $server_status when stopped"
        exit 1
    fi
    trap - EXIT INT TERM
    note "the namespaces stay up for another demo; remove them with: $(self_command down)"
}

http_demo_exit() {
    local status=$?
    trap - EXIT
    local pid
    for pid in "${http_pids[@]}"; do
        is_running "$pid" && { stop_process "$pid" 5 || true; }
    done
    if [[ $status -ne 0 && $brought_up -eq 1 ]]; then
        note "http-demo failed; removing the namespaces it brought up"
        cmd_down >/dev/null 2>&1 || true
    fi
    exit "$status"
}

# start_in NS LOG READY_REGEX SECONDS COMMAND...: runs COMMAND in namespace NS, logging to
# LOG, and waits for READY_REGEX in that log.
start_in() {
    local ns=$1 log=$2 ready=$3 seconds=$4
    shift 4
    ip netns exec "$ns" env -u ALTS_CREDENTIALS "$@" >"$log" 2>&1 </dev/null &
    http_pids+=($!)
    if ! wait_for_line "$log" "$ready" "$!" "$seconds" >/dev/null; then
        print_section "$(basename "$1") in netns $ns failed to start" "$log"
        die "$(basename "$1") in $ns exited or did not report '$ready' within ${seconds}s"
    fi
}

cmd_http_demo() {
    require_host http-demo
    brought_up=0
    http_pids=()
    if ! { netns_exists "$SERVER_NS" && netns_exists "$CLIENT_NS" && [[ -e $STATE/up && -x $STATE/$SERVER_NS/bin/alts-proxy ]]; }; then
        cmd_up
        brought_up=1
    fi
    local sbin=$STATE/$SERVER_NS/bin cbin=$STATE/$CLIENT_NS/bin log=$STATE/http-demo
    rm -rf -- "$log"
    mkdir -p -- "$log"
    trap http_demo_exit EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM

    # Each "VM" runs its own handshaker holding its own /etc/alts key; the proxies never
    # read a key, they send their handshakes to it (handshaker_service: 127.0.0.1:8080).
    start_in "$SERVER_NS" "$log/server-handshaker.log" 'handshaker listening on ' 30 "$sbin/handshaker" --listen 127.0.0.1:8080
    start_in "$SERVER_NS" "$log/httpbin.log" 'httpbin listening on ' 30 "$sbin/httpbin" --listen 127.0.0.1:8000
    start_in "$SERVER_NS" "$log/server-proxy.log" 'listener alts_in listening on ' 30 "$sbin/alts-proxy" -c "$STATE/$SERVER_NS/envoy/server.yaml"
    start_in "$CLIENT_NS" "$log/client-handshaker.log" 'handshaker listening on ' 30 "$cbin/handshaker" --listen 127.0.0.1:8080
    start_in "$CLIENT_NS" "$log/client-proxy.log" 'listener http_in listening on ' 30 "$cbin/alts-proxy" -c "$STATE/$CLIENT_NS/envoy/client.yaml"

    local curl_status=0
    ip netns exec "$CLIENT_NS" curl -sS -i --max-time 30 http://localhost:18080/get \
        >"$log/curl.out" 2>&1 </dev/null || curl_status=$?

    local pid
    for pid in "${http_pids[@]}"; do stop_process "$pid" 10 || true; done
    http_pids=()

    print_section "alts-proxy -c server.yaml ($SERVER_ACCOUNT) in netns $SERVER_NS at $SERVER_IP:18081" "$log/server-proxy.log"
    print_section "alts-proxy -c client.yaml ($CLIENT_ACCOUNT) in netns $CLIENT_NS at :18080" "$log/client-proxy.log"
    print_section "curl http://localhost:18080/get in netns $CLIENT_NS" "$log/curl.out"

    [[ $curl_status -eq 0 ]] || die "curl failed (exit status $curl_status)"
    grep -q '^HTTP/1.1 200 OK' "$log/curl.out" || die "curl did not get 200 OK"
    grep -qF "\"X-Alts-Peer-Service-Account\" : \"$CLIENT_ACCOUNT\"" "$log/curl.out" ||
        die "httpbin did not see X-Alts-Peer-Service-Account: $CLIENT_ACCOUNT"
    trap - EXIT INT TERM
    note "httpbin in $SERVER_NS saw the request from $CLIENT_ACCOUNT, over ALTS between the namespaces"
    note "the namespaces stay up; remove them with: $(self_command down)"
}

cmd_down() {
    require_host down
    local ns pids tries
    for ns in "$SERVER_NS" "$CLIENT_NS"; do
        if netns_exists "$ns"; then
            # A process left inside would keep the namespace, and its veth end, alive.
            pids=$(ip netns pids "$ns" || true)
            if [[ -n $pids ]]; then
                # shellcheck disable=SC2086 # one PID per word
                kill -TERM $pids 2>/dev/null || true
                for ((tries = 50; tries > 0; tries--)); do
                    [[ -z $(ip netns pids "$ns" || true) ]] && break
                    sleep 0.1
                done
                pids=$(ip netns pids "$ns" || true)
                # shellcheck disable=SC2086
                [[ -z $pids ]] || kill -KILL $pids 2>/dev/null || true
            fi
            ip -n "$ns" link del eth0 2>/dev/null || true
            ip netns del "$ns"
        fi
        rm -rf -- "/etc/netns/$ns"
    done
    rm -rf -- "$STATE"
    rmdir -- "$STATE_ROOT" 2>/dev/null || true
    with_host_lock release_etc_alts_mountpoint
    note "down: no $SERVER_NS or $CLIENT_NS namespace, /etc/netns entry or state left"
}

main() {
    check_settings
    case ${1:-} in
        up | demo | down)
            [[ $# -eq 1 ]] || {
                usage >&2
                exit 2
            }
            "cmd_$1"
            ;;
        http-demo)
            [[ $# -eq 1 ]] || {
                usage >&2
                exit 2
            }
            cmd_http_demo
            ;;
        -h | --help | help) usage ;;
        *)
            usage >&2
            exit 2
            ;;
    esac
}

main "$@"
