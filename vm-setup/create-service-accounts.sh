#!/usr/bin/env bash
# The altsctl counterpart of the seed's `gcloud iam service-accounts create` steps.
set -euo pipefail

SCRIPT_NAME=create-service-accounts.sh
# shellcheck source=vm-setup/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

usage() {
    cat <<USAGE
usage: $SCRIPT_NAME PROJECT [NAME...]

Creates PROJECT (its root CA) unless it exists, then issues a credential for each service
account NAME (default: alts-server alts-client) into \$OUT_DIR/NAME. Prints, on stdout, the
export lines the later steps use, so this works:

    eval "\$(vm-setup/$SCRIPT_NAME my-project)"

Environment:
  PROJECTS_DIR    where project CAs live (default: ./projects); ca.key never leaves it
  OUT_DIR         where credential directories go (default: ./credentials)
  TTL             certificate lifetime, Go syntax (default: 24h)
  ALTSCTL         altsctl to use; else \$SWIFT_ALTS_BIN/altsctl; else a debug swift build
USAGE
}

# SERVER_SERVICE_ACCOUNT for alts-server, as in the seed; BILLING_SERVICE_ACCOUNT for billing.
variable_for() {
    local stem=${1#alts-}
    stem=${stem//-/_}
    printf '%s_SERVICE_ACCOUNT' "${stem^^}"
}

main() {
    if [[ $# -lt 1 || $1 == -h || $1 == --help ]]; then
        usage
        [[ $# -ge 1 ]] && exit 0
        exit 2
    fi
    local project=$1
    shift
    local names=("$@")
    [[ ${#names[@]} -gt 0 ]] || names=(alts-server alts-client)

    local projects_dir=${PROJECTS_DIR:-./projects}
    local out_dir=${OUT_DIR:-./credentials}
    local ttl=${TTL:-24h}
    local altsctl
    if [[ -n ${ALTSCTL:-} ]]; then
        altsctl=$ALTSCTL
        [[ -x $altsctl ]] || die "ALTSCTL=$altsctl is not executable"
    else
        altsctl=$(swift_alts_bin_dir altsctl)/altsctl
    fi

    mkdir -p -- "$projects_dir" "$out_dir"
    # altsctl's own report is progress, not output: stdout carries only the export lines.
    if [[ -e $projects_dir/$project/ca.pem ]]; then
        note "project $project already exists in $projects_dir; using its CA"
    else
        "$altsctl" projects create "$project" --dir "$projects_dir" >&2
    fi
    local name
    for name in "${names[@]}"; do
        "$altsctl" service-accounts create "$name" --project "$project" --dir "$projects_dir" \
            --ttl "$ttl" --out "$out_dir/$name" >&2
    done

    printf 'export PROJECT=%s\n' "$project"
    for name in "${names[@]}"; do
        printf 'export %s=%s@%s.iam.gserviceaccount.com\n' "$(variable_for "$name")" "$name" "$project"
    done
}

main "$@"
