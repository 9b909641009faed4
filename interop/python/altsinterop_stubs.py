"""Generates the Python stubs the interop peers need, at run time, with grpcio-tools.

Nothing generated is committed: `load()` runs grpc_tools.protoc on the repository's
Protos/echo.proto (package grpc.examples.echo, the wire names grpc-go's example uses) into a
directory, puts it on sys.path and imports the modules.
The directory is a cache keyed by a hash of the protos and the grpcio-tools version, under
$ALTS_INTEROP_CACHE or the system temporary directory, so only the first run pays for protoc.
"""

import hashlib
import os
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PROTOS = os.path.join(REPO, "Protos")
FILES = ["echo.proto"]


def _output_directory():
    import grpc_tools

    digest = hashlib.sha256()
    digest.update(getattr(grpc_tools, "__version__", "").encode())
    try:
        from importlib.metadata import version

        digest.update(version("grpcio-tools").encode())
    except Exception:  # noqa: BLE001 - the version only refines the cache key
        pass
    for name in FILES:
        with open(os.path.join(PROTOS, name), "rb") as f:
            digest.update(name.encode() + b"\0" + f.read())
    root = os.environ.get("ALTS_INTEROP_CACHE") or os.path.join(tempfile.gettempdir(), "swift-alts-interop-python")
    return os.path.join(root, digest.hexdigest()[:16])


def load():
    """Returns (echo_pb2, echo_pb2_grpc)."""
    out = _output_directory()
    if not os.path.exists(os.path.join(out, "done")):
        from grpc_tools import protoc
        import grpc_tools

        os.makedirs(os.path.dirname(out), exist_ok=True)
        work = tempfile.mkdtemp(prefix="stubs.", dir=os.path.dirname(out))
        include = os.path.join(os.path.dirname(grpc_tools.__file__), "_proto")
        args = ["protoc", "-I" + PROTOS, "-I" + include, "--python_out=" + work, "--grpc_python_out=" + work] + [
            os.path.join(PROTOS, name) for name in FILES
        ]
        if protoc.main(args) != 0:
            raise RuntimeError("grpc_tools.protoc failed on " + ", ".join(FILES))
        open(os.path.join(work, "done"), "w").close()
        try:
            os.rename(work, out)
        except OSError:
            # Another process won the race; its output is identical.
            import shutil

            shutil.rmtree(work, ignore_errors=True)
    sys.path.insert(0, out)
    import echo_pb2
    import echo_pb2_grpc

    return echo_pb2, echo_pb2_grpc


def alts_context_accounts(serialized):
    """(peer_service_account, local_service_account) from a serialized grpc.gcp.AltsContext
    (fields 4 and 5, FACTS §4.4), read straight off the wire: the grpc.gcp proto package would
    clash with grpcio's own `grpc` module."""
    fields = {}
    i = 0

    def varint():
        nonlocal i
        shift = value = 0
        while True:
            byte = serialized[i]
            i += 1
            value |= (byte & 0x7F) << shift
            shift += 7
            if byte < 0x80:
                return value

    while i < len(serialized):
        key = varint()
        number, wire_type = key >> 3, key & 7
        if wire_type == 0:
            varint()
        elif wire_type == 2:
            length = varint()
            fields.setdefault(number, serialized[i : i + length])
            i += length
        elif wire_type == 1:
            i += 8
        elif wire_type == 5:
            i += 4
        else:
            raise ValueError("unexpected wire type %d in AltsContext" % wire_type)
    return fields.get(4, b"").decode(), fields.get(5, b"").decode()
