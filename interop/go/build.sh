#!/usr/bin/env bash
# Builds go-echo-client and go-echo-server against Debian's grpc-go, offline, in GOPATH mode,
# and prints the directory that holds them. Builds are cached by a hash of everything that goes
# into them (these sources, Debian's echo stubs, the Go toolchain and the grpc-go package), so a
# second call is instant.
#
#   interop/go/build.sh [CACHE_ROOT]        (default: ${TMPDIR:-/tmp}/swift-alts-interop-go)
#
# Needs: golang-go golang-google-grpc-dev golang-google-protobuf-dev
#        golang-github-golang-protobuf-1-5-dev (interop/install-deps.sh).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
cache_root="${1:-${TMPDIR:-/tmp}/swift-alts-interop-go}"
stubs=/usr/share/doc/golang-google-grpc-dev/examples/features/proto/echo
gocode=/usr/share/gocode

command -v go >/dev/null || { echo "build.sh: go not found (apt-get install golang-go)" >&2; exit 2; }
for f in "$stubs/echo.pb.go" "$stubs/echo_grpc.pb.go" "$gocode/src/google.golang.org/grpc/credentials/alts/alts.go"; do
    [ -f "$f" ] || { echo "build.sh: $f missing (apt-get install golang-google-grpc-dev)" >&2; exit 2; }
done

hash="$({
    cat "$here/client/main.go" "$here/server/main.go" "$here/build.sh" "$stubs/echo.pb.go" "$stubs/echo_grpc.pb.go"
    go version
    dpkg-query -W -f='${Package} ${Version}\n' golang-google-grpc-dev golang-google-protobuf-dev \
        golang-github-golang-protobuf-1-5-dev 2>/dev/null || true
} | sha256sum | cut -c1-16)"
out="$cache_root/$hash"
if [ -x "$out/bin/go-echo-client" ] && [ -x "$out/bin/go-echo-server" ]; then
    echo "$out/bin"
    exit 0
fi

mkdir -p "$cache_root"
work="$(mktemp -d "$cache_root/build.XXXXXX")"
trap 'rm -rf "$work"' EXIT
# Our own import path: stubs under google.golang.org/grpc/... in the first GOPATH entry would
# hide Debian's grpc package.
mkdir -p "$work/gopath/src/altsinterop/echo" "$work/gopath/src/altsinterop/client" "$work/gopath/src/altsinterop/server" "$work/bin"
cp "$stubs/echo.pb.go" "$stubs/echo_grpc.pb.go" "$work/gopath/src/altsinterop/echo/"
cp "$here/client/main.go" "$work/gopath/src/altsinterop/client/"
cp "$here/server/main.go" "$work/gopath/src/altsinterop/server/"
export GO111MODULE=off GOPATH="$work/gopath:$gocode" GOPROXY=off GOFLAGS= GOCACHE="$cache_root/gocache"
(cd "$work/gopath/src/altsinterop" &&
    go build -o "$work/bin/go-echo-client" ./client &&
    go build -o "$work/bin/go-echo-server" ./server) >&2
mkdir -p "$out"
# A concurrent build may have won the race; either result is the same binaries.
mv -T "$work/bin" "$out/bin" 2>/dev/null || [ -x "$out/bin/go-echo-server" ]
echo "$out/bin"
