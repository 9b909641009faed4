@testable import ALTSProxy
import ALTSProxyConfig
import NIOHTTP1
import Testing

@Suite("Routing and header rules")
struct RoutingTests {
    static func route(_ match: Route.Match, _ cluster: String, prefixRewrite: String? = nil) -> Route {
        Route(match: match, action: RouteAction(cluster: cluster, prefixRewrite: prefixRewrite))
    }

    let table = RouteTable(config: RouteConfig(virtualHosts: [
        VirtualHost(name: "exact", domains: ["api.example.com"], routes: [RoutingTests.route(.prefix("/"), "exact")]),
        VirtualHost(name: "suffix", domains: ["*.example.com"], routes: [RoutingTests.route(.prefix("/"), "suffix")]),
        VirtualHost(name: "longer-suffix", domains: ["*.eu.example.com"], routes: [RoutingTests.route(.prefix("/"), "longer-suffix")]),
        VirtualHost(name: "prefix", domains: ["internal.*"], routes: [RoutingTests.route(.prefix("/"), "prefix")]),
        VirtualHost(name: "default", domains: ["*"], routes: [
            RoutingTests.route(.path("/health"), "health"),
            RoutingTests.route(.prefix("/api/"), "api", prefixRewrite: "/v2/"),
            RoutingTests.route(.prefix("/"), "catch-all"),
        ]),
    ]))

    @Test("virtual hosts: exact, then the longest *.suffix, then prefix.*, then *; ports and case ignored as Envoy does")
    func domains() {
        #expect(table.resolve(authority: "api.example.com", path: "/")?.action.cluster == "exact")
        #expect(table.resolve(authority: "API.Example.com:8080", path: "/")?.action.cluster == "exact")
        #expect(table.resolve(authority: "www.example.com", path: "/")?.action.cluster == "suffix")
        #expect(table.resolve(authority: "x.eu.example.com", path: "/")?.action.cluster == "longer-suffix")
        #expect(table.resolve(authority: "internal.corp", path: "/")?.action.cluster == "prefix")
        #expect(table.resolve(authority: "example.com", path: "/")?.action.cluster == "catch-all")
        #expect(table.resolve(authority: nil, path: "/")?.action.cluster == "catch-all")
        #expect(table.resolve(authority: "[::1]:80", path: "/")?.action.cluster == "catch-all")
    }

    @Test("routes: first match wins; path ignores the query, prefix does not; no vhost or route is nil")
    func routes() {
        #expect(table.resolve(authority: "h", path: "/health?verbose=1")?.action.cluster == "health")
        #expect(table.resolve(authority: "h", path: "/healthz")?.action.cluster == "catch-all")
        #expect(table.resolve(authority: "h", path: "/api/users")?.action.cluster == "api")
        let narrow = RouteTable(config: RouteConfig(virtualHosts: [VirtualHost(name: "only", domains: ["a.example"], routes: [Self.route(.path("/x"), "x")])]))
        #expect(narrow.resolve(authority: "b.example", path: "/x") == nil)
        #expect(narrow.resolve(authority: "a.example", path: "/y") == nil)
    }

    @Test("prefix_rewrite replaces the matched prefix, keeping the rest and the query")
    func rewrite() {
        #expect(RouteTable.rewrite(path: "/api/users?id=1", match: .prefix("/api/"), prefixRewrite: "/v2/") == "/v2/users?id=1")
        #expect(RouteTable.rewrite(path: "/health?x", match: .path("/health"), prefixRewrite: "/status") == "/status?x")
        #expect(RouteTable.rewrite(path: "/a", match: .prefix("/"), prefixRewrite: nil) == "/a")
    }

    @Test("upstream request: hop-by-hop headers go, the peer header cannot be spoofed, forwarding headers are added")
    func upstreamHeaders() throws {
        var head = HTTPRequestHead(version: .http1_1, method: .POST, uri: "/api/x")
        head.headers = [
            "host": "front.example", "connection": "keep-alive, x-private", "x-private": "1", "keep-alive": "timeout=5",
            "x-alts-peer-service-account": "spoofed@evil.iam.gserviceaccount.com", "x-forwarded-for": "10.0.0.9",
            "expect": "100-continue", "content-length": "3", "x-request-id": "given",
        ]
        let route = try #require(RouteTable(config: RouteConfig(virtualHosts: [
            VirtualHost(name: "v", domains: ["*"], routes: [Route(
                match: .prefix("/api/"),
                action: RouteAction(cluster: "c", prefixRewrite: "/", hostRewriteLiteral: "backend.internal", timeout: .milliseconds(2500)),
                requestHeadersToAdd: [HeaderValueOption(key: "x-route", value: "r"), HeaderValueOption(key: "x-request-id", value: "forced", appendAction: .overwriteIfExistsOrAdd)]
            )], requestHeadersToAdd: [HeaderValueOption(key: "x-vhost", value: "v", appendAction: .addIfAbsent)]),
        ], requestHeadersToAdd: [HeaderValueOption(key: "x-route", value: "config")])).resolve(authority: "front.example", path: "/api/x"))
        let upstream = HeaderRewriting.upstreamRequest(
            head, route: route, downstream: DownstreamIdentity(remoteAddress: "192.0.2.7", peerServiceAccount: "alts-client@alpha.iam.gserviceaccount.com")
        ) { "generated" }
        #expect(upstream.uri == "/x")
        #expect(upstream.version == .http1_1)
        let headers = upstream.headers
        #expect(headers["host"] == ["backend.internal"])
        #expect(headers["connection"].isEmpty && headers["x-private"].isEmpty && headers["keep-alive"].isEmpty && headers["expect"].isEmpty)
        #expect(headers["x-alts-peer-service-account"] == ["alts-client@alpha.iam.gserviceaccount.com"])
        #expect(headers["x-forwarded-for"] == ["10.0.0.9, 192.0.2.7"])
        #expect(headers["x-forwarded-proto"] == ["http"])
        #expect(headers["x-request-id"] == ["forced"])
        #expect(headers["x-envoy-expected-rq-timeout-ms"] == ["2500"])
        #expect(headers["x-route"] == ["config", "r"])
        #expect(headers["x-vhost"] == ["v"])
        #expect(headers["content-length"] == ["3"])
    }

    @Test("upstream request from a plaintext listener: no peer header at all, a request id is generated")
    func plaintextDownstream() {
        var head = HTTPRequestHead(version: .http1_0, method: .GET, uri: "/")
        head.headers = ["x-alts-peer-service-account": "spoofed@evil.iam.gserviceaccount.com"]
        let route = ResolvedRoute(virtualHost: VirtualHost(name: "v", domains: ["*"], routes: []), route: Route(match: .prefix("/"), action: RouteAction(cluster: "c", timeout: nil)), headersToAdd: [])
        let upstream = HeaderRewriting.upstreamRequest(head, route: route, downstream: DownstreamIdentity(remoteAddress: nil, peerServiceAccount: nil)) { "generated" }
        #expect(upstream.headers["x-alts-peer-service-account"].isEmpty)
        #expect(upstream.headers["x-request-id"] == ["generated"])
        #expect(upstream.headers["x-envoy-expected-rq-timeout-ms"].isEmpty)
        #expect(upstream.headers["x-forwarded-for"].isEmpty)
    }

    @Test("response: hop-by-hop headers go, server is the configured name, connection: close when not kept")
    func responseHeaders() {
        var head = HTTPResponseHead(version: .http1_1, status: .ok)
        head.headers = ["server": "gunicorn", "connection": "keep-alive", "keep-alive": "timeout=5", "content-type": "text/plain"]
        let kept = HeaderRewriting.downstreamResponse(head, serverName: "edge", keepAlive: true)
        #expect(kept.headers["server"] == ["edge"])
        #expect(kept.headers["connection"].isEmpty && kept.headers["keep-alive"].isEmpty)
        #expect(kept.headers["content-type"] == ["text/plain"])
        #expect(HeaderRewriting.downstreamResponse(head, serverName: "edge", keepAlive: false).headers["connection"] == ["close"])
    }

    @Test("whether a request can still send a body: content-length, chunked, HTTP/2 without END_STREAM")
    func expectsBody() {
        var get = HTTPRequestHead(version: .http1_1, method: .GET, uri: "/")
        #expect(!HTTPProxyHandler.expectsBody(get, isHTTP2: false))
        #expect(HTTPProxyHandler.expectsBody(get, isHTTP2: true))
        get.headers = ["content-length": "0"]
        #expect(!HTTPProxyHandler.expectsBody(get, isHTTP2: true))
        get.headers = ["transfer-encoding": "chunked"]
        #expect(HTTPProxyHandler.expectsBody(get, isHTTP2: false))
    }

    @Test("x-request-id: RFC 4122 version-4 UUIDs in lower-case text, different each time")
    func requestIDs() {
        let ids = (0..<1000).map { _ in RequestID.make() }
        #expect(Set(ids).count == 1000)
        for id in ids {
            let groups = id.split(separator: "-", omittingEmptySubsequences: false)
            #expect(groups.map(\.count) == [8, 4, 4, 4, 12], "\(id)")
            #expect(id.allSatisfy { "0123456789abcdef-".contains($0) }, "\(id)")
            #expect(groups[2].first == "4", "version nibble: \(id)")
            #expect("89ab".contains(groups[3].first!), "variant nibble: \(id)")
        }
    }
}
