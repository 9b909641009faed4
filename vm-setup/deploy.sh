#!/usr/bin/env bash
# Puts one role of the helloworld on a real VM over ssh: the seed's `gcloud compute scp` and
# `gcloud compute ssh` steps, with altsctl credentials standing in for the VM's attached
# service account.
set -euo pipefail

SCRIPT_NAME=deploy.sh
# shellcheck source=vm-setup/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

usage() {
    cat <<USAGE
usage: $SCRIPT_NAME HOST ROLE

ROLE is server or client. Copies the ROLE binary to HOST:/usr/local/bin, the credential
directory to HOST:/etc/alts (owned by the system user \$SERVICE_USER, key mode 0600) and, for
the server, installs and starts the systemd unit alts-echo-server.service. HOST is anything
ssh accepts (user@vm, a Host from ~/.ssh/config); the remote user needs sudo.

Environment:
  CREDENTIALS     credential directory to install (default: \${OUT_DIR:-./credentials}/alts-ROLE,
                  as vm-setup/create-service-accounts.sh makes it)
  SWIFT_ALTS_BIN  directory holding the ROLE binary (default: a release build with the Swift
                  runtime linked in statically, so the VM needs no Swift)
  SSH_OPTIONS     extra options for both ssh and scp, e.g. "-i \$HOME/.ssh/vm -o Port=2222"
  SERVICE_USER    system user that owns /etc/alts and runs the server (default: alts)
  DRY_RUN=1       print the commands instead of running them
USAGE
}

UNIT=alts-echo-server.service
STAGING=.swift-alts-deploy

# A word as the shell would need it typed: bare when safe, else single-quoted.
quote() {
    if [[ $1 =~ ^[A-Za-z0-9_./:@%+=,-]+$ ]]; then
        printf '%s' "$1"
    else
        printf "'%s'" "${1//\'/\'\\\'\'}"
    fi
}

show() {
    local word line="+"
    for word in "$@"; do line+=" $(quote "$word")"; done
    printf '%s' "$line"
}

run() {
    if [[ ${DRY_RUN:-0} == 1 ]]; then
        show "$@"
        printf '\n'
    else
        show "$@" >&2
        printf '\n' >&2
        "$@"
    fi
}

# run_script SCRIPT COMMAND...: COMMAND reads SCRIPT on its stdin.
run_script() {
    local script=$1
    shift
    if [[ ${DRY_RUN:-0} == 1 ]]; then
        show "$@"
        printf " <<'REMOTE'\n%s\nREMOTE\n" "$script"
    else
        show "$@" >&2
        printf " <<'REMOTE' (%d lines)\n" "$(wc -l <<<"$script")" >&2
        "$@" <<<"$script"
    fi
}

# The root part, run on HOST by `sudo bash -s STAGING_DIR`.
remote_script() {
    local role=$1 user=$2
    cat <<REMOTE
set -euo pipefail
staging=\$1
chmod 600 "\$staging/service-account.key"
if ! id -u $user >/dev/null 2>&1; then
    useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin $user
fi
install -m 0755 "\$staging/$role" /usr/local/bin/$role
install -d -m 0700 -o $user -g $user /etc/alts /etc/alts/trust-bundle
install -m 0644 -o $user -g $user "\$staging/service-account.pem" /etc/alts/service-account.pem
install -m 0600 -o $user -g $user "\$staging/service-account.key" /etc/alts/service-account.key
install -m 0644 -o $user -g $user "\$staging"/trust-bundle/*.pem /etc/alts/trust-bundle/
REMOTE
    if [[ $role == server ]]; then
        cat <<REMOTE
install -m 0644 "\$staging/$UNIT" /etc/systemd/system/$UNIT
systemctl daemon-reload
systemctl enable $UNIT
# restart, not reload: a new binary needs a new process.
systemctl restart $UNIT
systemctl --no-pager --lines=5 status $UNIT
REMOTE
    fi
    cat <<REMOTE
rm -rf -- "\$staging"
REMOTE
}

main() {
    if [[ ${1:-} == -h || ${1:-} == --help ]]; then
        usage
        exit 0
    fi
    if [[ $# -ne 2 ]]; then
        usage >&2
        exit 2
    fi
    local host=$1 role=$2
    [[ $host =~ ^[^[:space:]-][^[:space:]]*$ ]] || die "HOST '$host' is not an ssh destination"
    [[ $role == server || $role == client ]] || die "ROLE must be server or client, not '$role'"
    local user=${SERVICE_USER:-alts}
    [[ $user =~ ^[a-z_][a-z0-9_-]*$ ]] || die "SERVICE_USER '$user' is not a valid user name"

    local creds=${CREDENTIALS:-${OUT_DIR:-./credentials}/alts-$role}
    [[ -f $creds/service-account.pem && -f $creds/service-account.key ]] ||
        die "no credentials in $creds; create them with: vm-setup/create-service-accounts.sh PROJECT (or set CREDENTIALS)"
    compgen -G "$creds/trust-bundle/*.pem" >/dev/null || die "$creds/trust-bundle has no roots"

    local binary
    if [[ -n ${SWIFT_ALTS_BIN:-} ]]; then
        binary=$SWIFT_ALTS_BIN/$role
        [[ -x $binary ]] || die "SWIFT_ALTS_BIN=$SWIFT_ALTS_BIN has no executable '$role'"
    else
        command -v swift >/dev/null 2>&1 || die "swift is not on PATH; set SWIFT_ALTS_BIN to a directory with a built '$role'"
        local build=(swift build -c release --static-swift-stdlib)
        (cd "$SWIFT_ALTS_ROOT" && run "${build[@]}" --product "$role")
        binary=$(cd "$SWIFT_ALTS_ROOT" && "${build[@]}" --show-bin-path)/$role
    fi

    local ssh_options=()
    read -ra ssh_options <<<"${SSH_OPTIONS:-}"

    [[ ${DRY_RUN:-0} == 1 ]] && note "DRY_RUN=1: printing the commands, not running them"
    # Staging is the login user's 0700 directory; only the root script below puts files in
    # their final places, with their final owners and modes.
    run ssh "${ssh_options[@]}" "$host" "rm -rf $STAGING && mkdir -m 0700 $STAGING"
    local files=("$binary" "$creds/service-account.pem" "$creds/service-account.key" "$creds/trust-bundle")
    [[ $role == server ]] && files+=("$HERE/systemd/$UNIT")
    run scp "${ssh_options[@]}" -q -r "${files[@]}" "$host:$STAGING/"
    # shellcheck disable=SC2016 # $HOME is the remote one
    run_script "$(remote_script "$role" "$user")" ssh "${ssh_options[@]}" "$host" 'sudo bash -s -- "$HOME/'"$STAGING"'"'

    if [[ $role == server ]]; then
        note "$host: $UNIT enabled and (re)started; its log: ssh $host journalctl -u $UNIT"
    else
        local target=${SERVER_SERVICE_ACCOUNT:-alts-server@PROJECT.iam.gserviceaccount.com}
        note "$host: run the client as the owner of /etc/alts:"
        note "  ssh $host sudo -u $user client --addr SERVER_VM:50051 --targetServiceAccount $target"
    fi
}

main "$@"
