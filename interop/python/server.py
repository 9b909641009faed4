#!/usr/bin/env python3
"""grpcio echo server over stock ALTS: grpc.alts_server_credentials().

Serves grpc.examples.echo.Echo/UnaryEcho. For each RPC it logs, in Go's log format on stderr,
the client's service account from context.auth_context()["service_account"] and its own from
the serialized AltsContext ("alts_context"):

    2006/01/02 15:04:05 AuthInfo PeerServiceAccount: alts-client@P.iam.gserviceaccount.com
    2006/01/02 15:04:05 AuthInfo LocalServiceAccount: alts-server@P.iam.gserviceaccount.com

Once bound it logs `listening on HOST:PORT`. Like the client, it needs the Google Cloud look
that interop/ns-run.sh gives it; grpcio's handshaker is always metadata.google.internal.:8080.
"""

import argparse
import sys
import time
from concurrent import futures

import grpc

import altsinterop_stubs


def log(message):
    print(time.strftime("%Y/%m/%d %H:%M:%S ") + message, file=sys.stderr, flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bind", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=50051, help="0 picks one")
    args = parser.parse_args()

    echo_pb2, echo_pb2_grpc = altsinterop_stubs.load()

    class Echo(echo_pb2_grpc.EchoServicer):
        def UnaryEcho(self, request, context):
            auth = context.auth_context()
            peer = b",".join(auth.get("service_account", [])).decode()
            local = ""
            if auth.get("alts_context"):
                _, local = altsinterop_stubs.alts_context_accounts(auth["alts_context"][0])
            log("AuthInfo PeerServiceAccount: %s" % peer)
            log("AuthInfo LocalServiceAccount: %s" % local)
            log(
                "AuthInfo transport_security_type=%s security_level=%s"
                % (
                    b",".join(auth.get("transport_security_type", [])).decode(),
                    b",".join(auth.get("security_level", [])).decode(),
                )
            )
            return echo_pb2.EchoResponse(message=request.message)

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    echo_pb2_grpc.add_EchoServicer_to_server(Echo(), server)
    address = "%s:%d" % (args.bind, args.port)
    try:
        port = server.add_secure_port(address, grpc.alts_server_credentials())
    except RuntimeError as error:
        # Off Google Cloud grpcio's ALTS server credentials are NULL and binding fails.
        print("server: error: cannot bind %s with ALTS credentials: %s" % (address, error), file=sys.stderr, flush=True)
        return 1
    if port == 0:
        print("server: error: cannot bind %s with ALTS credentials" % address, file=sys.stderr, flush=True)
        return 1
    server.start()
    log("listening on %s:%d" % (args.bind, port))
    server.wait_for_termination()
    return 0


if __name__ == "__main__":
    sys.exit(main())
