#!/usr/bin/env python3
"""grpcio echo client over stock ALTS: grpc.alts_channel_credentials(service_accounts=[...]).

Calls grpc.examples.echo.Echo/UnaryEcho and prints `UnaryEcho:  <reply>` on stdout. On failure
prints one line `client: error: <CODE>: <details> (after <seconds>s)` on stderr and exits 1.

grpcio has no way to set the handshaker address: it always dials
dns:///metadata.google.internal.:8080, and turns ALTS on only on Google Cloud. Off Google Cloud
run it under interop/ns-run.sh, which provides both (docs/INTEROP.md). grpcio's client API
does not expose the server's identity; the server account is enforced by the handshaker
service through --target (target_identities) and shows in its `handshake ok` log line.
"""

import argparse
import sys
import time

import grpc

import altsinterop_stubs


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--addr", required=True, help="server HOST:PORT")
    parser.add_argument(
        "--target", action="append", default=[], help="service account the server may have (repeatable; none: any)"
    )
    parser.add_argument("--message", default="hello world")
    parser.add_argument("--timeout", type=float, default=10.0, help="deadline of the RPC in seconds")
    args = parser.parse_args()

    echo_pb2, echo_pb2_grpc = altsinterop_stubs.load()
    started = time.monotonic()
    try:
        credentials = grpc.alts_channel_credentials(service_accounts=args.target)
        with grpc.secure_channel(args.addr, credentials) as channel:
            reply = echo_pb2_grpc.EchoStub(channel).UnaryEcho(
                echo_pb2.EchoRequest(message=args.message), timeout=args.timeout
            )
    except grpc.RpcError as error:
        elapsed = time.monotonic() - started
        print(
            "client: error: %s: %s (after %.3fs)" % (error.code().name, error.details(), elapsed),
            file=sys.stderr,
            flush=True,
        )
        return 1
    print("UnaryEcho:  %s" % reply.message, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
