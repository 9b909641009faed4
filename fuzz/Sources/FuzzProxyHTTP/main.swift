import ALTSProxy
import ALTSProxyConfig
import FuzzSupport
import Logging
import NIOCore
import NIOEmbedded

// alts-proxy's downstream HTTP path: codec detection, HTTP/1.1 and h2 parsing, routing,
// header rewriting and local replies, on an in-memory channel. The clusters' loop cannot open
// sockets, so every routed request ends in a 503 from the proxy itself.
//
// Input: PIECE ‖ BYTES, BYTES delivered in PIECE-byte reads (0: all at once), then a second of
// virtual time so the route timeouts fire (NIO's IdleStateHandler reads the real clock, so
// stream_idle_timeout cannot be hurried this way). Whatever the proxy writes back must be an HTTP/1.1
// response or, after the h2 client preface, h2 frames starting with SETTINGS.

private let bootstrap: ProxyBootstrap = {
    do {
        return try ProxyBootstrap.load(yaml: proxyFuzzBootstrapYAML)
    } catch {
        fatalError("the proxy fuzz bootstrap does not load: \(error)")
    }
}()
private let logger = Logger(label: "fuzz", factory: { _ in SwiftLogNoOpLogHandler() })
private let http2Preface = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)

@_cdecl("LLVMFuzzerInitialize")
public func fuzzerInitialize(_ argc: UnsafeMutableRawPointer?, _ argv: UnsafeMutableRawPointer?) -> CInt {
    FuzzSeeds.writeIfRequested(proxySeeds)
    _ = bootstrap
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    fuzzProxyHTTP(data.map(UnsafeRawPointer.init) ?? UnsafeRawPointer(bitPattern: 1)!, count)
}

@_cdecl("FuzzProxyHTTP_main")
public func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc: argc, argv: argv) { fuzzerTestOneInput($0, $1) }
}

private func fuzzProxyHTTP(_ data: UnsafeRawPointer, _ count: Int) -> CInt {
    var input = FuzzInput(data, count)
    let piece = Int(input.byte())
    let payload = input.rest()
    let loop = EmbeddedEventLoop()
    let host: ProxyChannelHost
    do {
        host = try ProxyChannelHost(bootstrap: bootstrap, listenerName: "ingress", handshakes: .handshakerService, eventLoop: loop, logger: logger)
    } catch {
        fatalError("ProxyChannelHost set-up failed: \(error)")
    }
    let channel = EmbeddedChannel(loop: loop)
    var written: [UInt8] = []
    do {
        try host.initialize(channel)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 40_000)).wait()
        for chunk in payload.pieces(of: piece) where channel.isActive {
            try channel.writeInbound(channel.allocator.buffer(bytes: chunk))
            loop.run()
            written += drainOutbound(channel)
        }
        loop.advanceTime(by: .seconds(1))
        written += drainOutbound(channel)
    } catch {
        // A protocol error closes the connection: the property below still holds for what
        // was written before it.
        written += drainOutbound(channel)
    }
    _ = try? channel.finish()
    loop.run()
    host.shutdown()
    loop.run()
    try? loop.syncShutdownGracefully()

    guard !written.isEmpty else { return 0 }
    if payload.starts(with: http2Preface) {
        fuzzInvariant(written.count >= 9 && written[3] == 0x04, "the h2 reply does not start with SETTINGS")
    } else {
        fuzzInvariant(written.starts(with: Array("HTTP/1.1 ".utf8)) || written.starts(with: Array("HTTP/1.0 ".utf8)),
                      "the reply does not start with an HTTP/1 status line: \(written.prefix(16))")
    }
    return 0
}

private func drainOutbound(_ channel: EmbeddedChannel) -> [UInt8] {
    var bytes: [UInt8] = []
    while let data = try? channel.readOutbound(as: IOData.self) {
        if case .byteBuffer(let buffer) = data { bytes += buffer.readableBytesView }
    }
    return bytes
}

/// Requests a client sends through alts-proxy: routed and unrouted, with bodies fixed and
/// chunked, pipelined, Expect: 100-continue, and h2 with a HEADERS frame.
private func proxySeeds() -> [(name: String, bytes: [UInt8])] {
    func http1(_ name: String, _ text: String, piece: UInt8 = 0) -> (name: String, bytes: [UInt8]) {
        (name, [piece] + Array(text.utf8))
    }
    // HPACK: :method GET (2), :scheme http (6), then :path and :authority as literals
    // without indexing, by static-table name index (4 and 1).
    func h2Get(path: String, authority: String) -> [UInt8] {
        let block: [UInt8] = [0x82, 0x86, 0x04, UInt8(path.utf8.count)] + Array(path.utf8)
            + [0x01, UInt8(authority.utf8.count)] + Array(authority.utf8)
        let settings: [UInt8] = [0, 0, 0, 0x04, 0, 0, 0, 0, 0]
        let headers: [UInt8] = [0, 0, UInt8(block.count), 0x01, 0x05, 0, 0, 0, 1] + block
        return http2Preface + settings + headers
    }
    return [
        http1("get-routed", "GET /static/app.js HTTP/1.1\r\nHost: www.example.com\r\n\r\n"),
        http1("get-healthz", "GET /healthz HTTP/1.1\r\nHost: api.example.com\r\nUser-Agent: curl/8\r\n\r\n", piece: 5),
        http1("get-unrouted", "GET /nothing HTTP/1.1\r\nHost: other\r\n\r\n"),
        http1("post-length", "POST /v1/items HTTP/1.1\r\nHost: a.api.example.com\r\nContent-Length: 5\r\n\r\nhello"),
        http1("post-chunked", "POST /static/x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", piece: 3),
        http1("pipelined", "GET /static/1 HTTP/1.1\r\nHost: h\r\n\r\nGET /nothing HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"),
        http1("expect-continue", "PUT /static/u HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc"),
        http1("http10", "GET /static/a HTTP/1.0\r\n\r\n"),
        ("h2-get-routed", [0] + h2Get(path: "/static/x", authority: "h")),
        ("h2-get-api", [7] + h2Get(path: "/v1/a", authority: "api.example.com")),
    ]
}
