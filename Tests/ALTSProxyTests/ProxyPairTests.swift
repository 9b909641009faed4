import ALTSProxyConfig
import ALTSTestSupport
import Foundation
import Testing

@Suite("alts-proxy pair over ALTS (curl → proxy → ALTS → proxy → httpbin)", .serialized)
struct ProxyPairTests {
    @Test("GET /get: 200 through both proxies; the upstream sees the client's account and the forwarding headers")
    func getThrough() async throws {
        let pair = try await ProxyPair()
        let result = try pair.curl("/get?x=1", ["-H", "x-alts-peer-service-account: spoofed@evil.iam.gserviceaccount.com"])
        await pair.stop()
        #expect(result.status == 0, "\(result.stderr)")
        #expect(statusLine(result.stdout) == "HTTP/1.1 200 OK", "\(result.stdout)")
        #expect(result.stdout.lowercased().contains("\r\nserver: alts-proxy\r\n"), "\(result.stdout)")
        let json = try jsonObject(responseBody(result.stdout))
        let headers = try #require(json["headers"] as? [String: String], "\(result.stdout)")
        // The client's spoofed value is gone; only what the ALTS handshake proved remains.
        #expect(headers["X-Alts-Peer-Service-Account"] == ProxyPair.clientAccount)
        #expect(headers["X-Forwarded-For"] == "127.0.0.1, 127.0.0.1")
        #expect(headers["X-Forwarded-Proto"] == "http")
        #expect(headers["X-Envoy-Expected-Rq-Timeout-Ms"] == "15000")
        let requestID = try #require(headers["X-Request-Id"])
        #expect(requestID.count == 36)
        #expect(json["args"] as? [String: String] == ["x": "1"])
    }

    @Test("keep-alive: three requests on one curl connection reuse one ALTS upstream connection")
    func reuse() async throws {
        let pair = try await ProxyPair()
        let base = "http://127.0.0.1:\(pair.clientPort)"
        let result = try Subprocess.run("/usr/bin/curl", ["-sS", "--max-time", "30"] + ["/get", "/headers", "/hello"].flatMap { ["-o", "/dev/null", "-w", "%{http_code} %{num_connects}\\n", base + $0] })
        let serverStats = try pair.admin("/stats", port: pair.serverAdminPort)
        let clientStats = try pair.admin("/stats", port: pair.clientAdminPort)
        await pair.stop()
        #expect(result.stdout.split(separator: "\n").map(String.init) == ["200 1", "200 0", "200 0"], "\(result.stdout) \(result.stderr)")
        #expect(serverStats.contains(#"alts_proxy_downstream_connections_total{listener="alts_in"} 1"#), "\(serverStats)")
        #expect(serverStats.contains(#"alts_proxy_handshakes_total{side="downstream",name="alts_in",result="ok"} 1"#), "\(serverStats)")
        #expect(clientStats.contains(#"alts_proxy_handshakes_total{side="upstream",name="alts_server",result="ok"} 1"#), "\(clientStats)")
        #expect(clientStats.contains(#"alts_proxy_http_requests_total{stat_prefix="client_http",code="200"} 3"#), "\(clientStats)")
    }

    @Test("egress: a server outside the cluster's peer_service_accounts gives Envoy's 503, and httpbin is never reached")
    func egressMismatch() async throws {
        var options = ProxyPair.Options()
        options.serverAccountsExpectedByClient = ["billing@alpha.iam.gserviceaccount.com"]
        let pair = try await ProxyPair(options)
        let result = try pair.curl("/get")
        let clientStats = try pair.admin("/stats", port: pair.clientAdminPort)
        let serverStats = try pair.admin("/stats", port: pair.serverAdminPort)
        await pair.stop()
        #expect(statusLine(result.stdout) == "HTTP/1.1 503 Service Unavailable", "\(result.stdout)")
        #expect(responseBody(result.stdout) == "upstream connect error or disconnect/reset before headers. reset reason: connection failure, transport failure reason: Couldn't find peer's service account in peer_service_accounts: \(ProxyPair.serverAccount)")
        #expect(clientStats.contains(#"alts_proxy_handshakes_total{side="upstream",name="alts_server",result="peer_service_account_mismatch"} 1"#), "\(clientStats)")
        #expect(serverStats.contains(#"alts_proxy_handshakes_total{side="downstream",name="alts_in",result="ok"} 1"#), "\(serverStats)")
        #expect(!serverStats.contains("alts_proxy_http_requests_total{"), "no request may reach the server side: \(serverStats)")
    }

    @Test("ingress: a client outside the listener's peer_service_accounts is disconnected; the client proxy answers 503")
    func ingressMismatch() async throws {
        var options = ProxyPair.Options()
        options.clientAccountsExpectedByServer = ["billing@alpha.iam.gserviceaccount.com"]
        let pair = try await ProxyPair(options)
        let result = try pair.curl("/get")
        let serverStats = try pair.admin("/stats", port: pair.serverAdminPort)
        await pair.stop()
        #expect(statusLine(result.stdout) == "HTTP/1.1 503 Service Unavailable", "\(result.stdout)")
        #expect(responseBody(result.stdout).hasPrefix("upstream connect error or disconnect/reset before headers."), "\(result.stdout)")
        #expect(serverStats.contains(#"alts_proxy_handshakes_total{side="downstream",name="alts_in",result="peer_service_account_mismatch"} 1"#), "\(serverStats)")
        #expect(!serverStats.contains(#"code="200""#))
    }

    @Test("HTTP/2 downstream (prior knowledge, codec AUTO) and an HTTP/2 ALTS hop between the proxies")
    func http2() async throws {
        var options = ProxyPair.Options()
        options.upstreamProtocol = .http2
        let pair = try await ProxyPair(options)
        let result = try pair.curl("/get", ["--http2-prior-knowledge"])
        let second = try pair.curl("/headers", ["--http2-prior-knowledge"])
        await pair.stop()
        #expect(statusLine(result.stdout) == "HTTP/2 200", "\(result.stdout) \(result.stderr)")
        #expect(result.stdout.contains("\r\nserver: alts-proxy\r\n"), "\(result.stdout)")
        let headers = try #require(try jsonObject(responseBody(result.stdout))["headers"] as? [String: String])
        #expect(headers["X-Alts-Peer-Service-Account"] == ProxyPair.clientAccount)
        #expect(statusLine(second.stdout) == "HTTP/2 200")
    }

    @Test("bodies stream both ways: 64 MiB up with its SHA-256 checked by httpbin, 256 MiB down")
    func largeBodies() async throws {
        let pair = try await ProxyPair()
        let scratch = try makeScratchDirectory(prefix: "proxy-body")
        let file = scratch + "/body"
        var bytes = [UInt8](repeating: 0, count: 64 << 20)
        for index in stride(from: 0, to: bytes.count, by: 4096) { bytes[index] = UInt8(truncatingIfNeeded: index >> 12) }
        try Data(bytes).write(to: URL(fileURLWithPath: file))
        let digest = try Subprocess.run("/usr/bin/sha256sum", [file]).stdout.prefix(64)
        let upload = try pair.curl("/anything", ["--data-binary", "@\(file)", "-H", "content-type: application/octet-stream"])
        let download = try pair.curl("/bytes/268435456", ["-o", "/dev/null", "-w", "%{http_code} %{size_download}"])
        await pair.stop()
        try? FileManager.default.removeItem(atPath: scratch)
        #expect(statusLine(upload.stdout) == "HTTP/1.1 200 OK", "\(upload.stdout) \(upload.stderr)")
        let json = try jsonObject(responseBody(upload.stdout))
        #expect(json["body_bytes"] as? Int == 64 << 20)
        #expect(json["body_sha256"] as? String == String(digest))
        #expect(download.stdout.hasSuffix("200 268435456"), "\(download.stdout) \(download.stderr)")
    }

    @Test("no route: 404; route timeout: 504 'upstream request timeout'")
    func localReplies() async throws {
        var options = ProxyPair.Options()
        options.routeTimeout = .seconds(1)
        let pair = try await ProxyPair(options)
        let missing = try pair.curl("/get", ["-H", "host: elsewhere.example"])
        let started = ContinuousClock.now
        let slow = try pair.curl("/delay/3")
        let elapsed = ContinuousClock.now - started
        let healthy = try pair.curl("/get")
        await pair.stop()
        #expect(statusLine(missing.stdout) == "HTTP/1.1 404 Not Found", "\(missing.stdout)")
        #expect(responseBody(missing.stdout) == "")
        #expect(statusLine(slow.stdout) == "HTTP/1.1 504 Gateway Timeout", "\(slow.stdout)")
        #expect(responseBody(slow.stdout) == "upstream request timeout")
        #expect(elapsed < .seconds(3), "\(elapsed)")
        #expect(statusLine(healthy.stdout) == "HTTP/1.1 200 OK")
    }

    @Test("admin: /ready, /stats in Prometheus text, /config_dump")
    func admin() async throws {
        let pair = try await ProxyPair()
        _ = try pair.curl("/get")
        let ready = try pair.admin("/ready", port: pair.clientAdminPort)
        let stats = try pair.admin("/stats/prometheus", port: pair.clientAdminPort)
        let dump = try pair.admin("/config_dump", port: pair.clientAdminPort)
        await pair.stop()
        #expect(ready == "LIVE\n")
        #expect(stats.contains("# TYPE alts_proxy_bytes_total counter"), "\(stats)")
        #expect(stats.contains(#"alts_proxy_bytes_total{side="upstream",direction="tx"}"#), "\(stats)")
        #expect(dump.contains("alts_server"), "\(dump)")
    }

    @Test("tcp_proxy: raw bytes over ALTS between the proxies; HTTP still goes through end to end")
    func tcpProxy() async throws {
        var options = ProxyPair.Options()
        options.tcpProxy = true
        let pair = try await ProxyPair(options)
        let result = try pair.curl("/get")
        await pair.stop()
        #expect(statusLine(result.stdout) == "HTTP/1.1 200 OK", "\(result.stdout) \(result.stderr)")
        // No HTTP processing: no peer header is added, the server header is httpbin's.
        let headers = try #require(try jsonObject(responseBody(result.stdout))["headers"] as? [String: String])
        #expect(headers["X-Alts-Peer-Service-Account"] == nil)
    }
}
