#!/usr/bin/env bash
# Fills the @@-delimited placeholders of an Envoy config template.
#
#   interop/envoy/render.sh client.yaml.in CLIENT_IP=127.0.0.3 SERVER_IP=127.0.0.2 ... > client.yaml
#
# Every placeholder must be given; a leftover one is an error.
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: $0 TEMPLATE NAME=VALUE..." >&2; exit 2; }
text="$(cat "$1")"
shift
for pair in "$@"; do
    name="${pair%%=*}" value="${pair#*=}"
    text="${text//@@${name}@@/${value}}"
done
if grep -o '@@[A-Z_]*@@' <<<"$text" | sort -u | grep . >&2; then
    echo "render.sh: the placeholders above have no value" >&2
    exit 2
fi
printf '%s\n' "$text"
