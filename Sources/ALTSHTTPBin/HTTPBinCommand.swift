import ArgumentParser
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// A small httpbin.org look-alike: the upstream behind the proxy demo, its tests and its
/// benchmark. It answers from memory and streams, so it is never the bottleneck it measures.
@main
struct HTTPBinCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "httpbin",
        abstract: "httpbin-like HTTP/1.1 upstream for the alts-proxy demo, tests and benchmarks.",
        discussion: """
            GET /get, /headers: JSON with the request's args, headers (as received), origin and url.
            /hello: 13 bytes of text.  /bytes/N: N bytes, streamed.  /status/N: that status.
            /delay/S: /get after S seconds (at most 60).  /anything, /post: the request's method,
            headers, and the count and SHA-256 of its body (body_bytes, body_sha256), streamed.
            """)

    @Option(help: "HOST:PORT to listen on (port 0 picks a free one).")
    var listen = "127.0.0.1:8000"

    @Option(help: "Event loop threads. Default: one per core.")
    var threads: Int?

    func run() async throws {
        guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]), (0...65_535).contains(port) else {
            throw ValidationError("--listen takes HOST:PORT, got '\(listen)'")
        }
        let host = String(listen[..<colon]).trimmingCharacters(in: ["[", "]"])
        let group = MultiThreadedEventLoopGroup(numberOfThreads: threads ?? System.coreCount)
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.allowRemoteHalfClosure, value: false)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(HTTPBinHandler())
                }
            }
            .bind(host: host, port: port)
            .get()
        let bound = channel.localAddress!
        let ip = bound.ipAddress!
        // On stderr, unbuffered, with the logs of the other binaries: scripts wait for it there.
        FileHandle.standardError.write(Data("httpbin listening on \(ip.contains(":") ? "[\(ip)]" : ip):\(bound.port!)\n".utf8))
        try await channel.closeFuture.get()
    }
}
