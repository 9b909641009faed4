import ALTSTestSupport
import Foundation
import NIOCore
import NIOPosix
import Testing

/// HTTP/1.1 pipelining and unparsable requests on the proxy's downstream side, which
/// HTTPProxyHandler handles itself (not NIO's pipelining and error handlers).
@Suite("alts-proxy HTTP/1.1 pipelining and bad requests", .serialized)
struct PipeliningTests {
    @Test("three pipelined requests in one write (a slow GET, a POST with a body, a GET with connection: close) are answered in order, then the connection closes", .timeLimit(.minutes(1)))
    func pipelinedInOrder() async throws {
        let pair = try await ProxyPair()
        let requests =
            "GET /delay/1 HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n"
            + "POST /post HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-length: 3\r\n\r\nabc"
            + "GET /status/201 HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n"
        let reply = try await rawHTTPExchange(port: pair.clientPort, group: pair.group, send: requests)
        let stats = try pair.admin("/stats", port: pair.clientAdminPort)
        await pair.stop()

        // httpbin's JSON bodies end without a newline: split at the status lines themselves.
        let statuses = reply.components(separatedBy: "HTTP/1.1 ").dropFirst().map { $0.components(separatedBy: "\r\n")[0] }
        #expect(statuses == ["200 OK", "200 OK", "201 Created"], "\(reply)")
        // The POST's body reached httpbin whole: its SHA-256 is that of "abc".
        #expect(reply.contains("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"), "\(reply)")
        #expect(reply.lowercased().contains("connection: close"), "\(reply)")
        #expect(stats.contains(#"alts_proxy_http_requests_total{stat_prefix="client_http",code="200"} 2"#), "\(stats)")
        #expect(stats.contains(#"alts_proxy_http_requests_total{stat_prefix="client_http",code="201"} 1"#), "\(stats)")
    }

    @Test("200 pipelined requests in one write, more than one read's worth: every one answered, in order", .timeLimit(.minutes(1)))
    func manyPipelined() async throws {
        let pair = try await ProxyPair()
        let count = 200
        let requests = (0..<count).map { index in
            "GET /anything/\(index) HTTP/1.1\r\nhost: 127.0.0.1\r\nx-padding: \(String(repeating: "p", count: 400))\r\n\(index == count - 1 ? "connection: close\r\n" : "")\r\n"
        }.joined()
        let reply = try await rawHTTPExchange(port: pair.clientPort, group: pair.group, send: requests)
        await pair.stop()
        // httpbin's /anything echoes the URL; JSON escapes its slashes or not, so match the tail.
        let urls = reply.components(separatedBy: "\"url\"").dropFirst().map { $0.components(separatedBy: "anything/")[1].prefix { $0.isNumber } }
        #expect(urls.map(String.init) == (0..<count).map { "\($0)" }, "\(reply.prefix(2000))")
    }

    @Test("a request that does not parse gets 400 'Bad Request' and the connection closes; the proxy still serves", .timeLimit(.minutes(1)))
    func badRequest() async throws {
        let pair = try await ProxyPair()
        let reply = try await rawHTTPExchange(port: pair.clientPort, group: pair.group, send: "GET /get HTTP/1.1\r\nho st: a\r\n\r\n")
        let after = try pair.curl("/hello")
        let stats = try pair.admin("/stats", port: pair.clientAdminPort)
        await pair.stop()

        #expect(reply.hasPrefix("HTTP/1.1 400 Bad Request\r\n"), "\(reply)")
        #expect(reply.hasSuffix("\r\n\r\nBad Request"), "\(reply)")
        #expect(reply.lowercased().contains("\r\nconnection: close\r\n"), "\(reply)")
        #expect(stats.contains(#"alts_proxy_http_requests_total{stat_prefix="client_http",code="400"} 1"#), "\(stats)")
        #expect(statusLine(after.stdout) == "HTTP/1.1 200 OK", "\(after.stdout)")
    }
}

/// Writes `send` on a new plain TCP connection and returns everything received until the
/// server closes it.
func rawHTTPExchange(port: Int, group: any EventLoopGroup, send: String) async throws -> String {
    let channel = try await ClientBootstrap(group: group).connect(host: "127.0.0.1", port: port) { channel in
        channel.eventLoop.makeCompletedFuture { try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel) }
    }
    return try await channel.executeThenClose { inbound, outbound in
        try await outbound.write(ByteBuffer(string: send))
        var received = ""
        for try await buffer in inbound { received += String(buffer: buffer) }
        return received
    }
}
