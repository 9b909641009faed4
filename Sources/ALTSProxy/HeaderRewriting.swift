import ALTSProxyConfig
import NIOHTTP1

/// Who sent a request, as the upstream is told.
struct DownstreamIdentity: Equatable, Sendable {
    /// The downstream peer's IP address, for x-forwarded-for.
    var remoteAddress: String?
    /// The ALTS-authenticated service account, when the listener is ALTS.
    var peerServiceAccount: String?
}

/// The header rules of the data path, kept apart from the channel handlers so that each rule
/// is tested on its own.
enum HeaderRewriting {
    static let peerServiceAccountHeader = "x-alts-peer-service-account"

    /// Hop-by-hop headers (RFC 9110 §7.6.1) that are never forwarded. transfer-encoding is
    /// handled apart: it describes the framing the codec produces.
    private static let hopByHop = ["connection", "keep-alive", "proxy-connection", "te", "upgrade", "trailer", "proxy-authenticate", "proxy-authorization"]

    /// The request head sent upstream.
    static func upstreamRequest(
        _ head: HTTPRequestHead, route: ResolvedRoute, downstream: DownstreamIdentity, requestID: () -> String
    ) -> HTTPRequestHead {
        var headers = HTTPHeaders()
        let listedInConnection = connectionTokens(head.headers)
        for (name, value) in head.headers {
            if isHopByHop(name, listedInConnection: listedInConnection) { continue }
            // Only this proxy may say who the peer is: whatever arrived from outside goes.
            if name.equalsIgnoringASCIICase(peerServiceAccountHeader) { continue }
            if name.equalsIgnoringASCIICase("expect") { continue }  // answered locally (100-continue)
            headers.add(name: name, value: value)
        }
        if let literal = route.action.hostRewriteLiteral {
            headers.replaceOrAdd(name: "host", value: literal)
        }
        if let remote = downstream.remoteAddress {
            if let existing = headers.first(name: "x-forwarded-for") {
                headers.replaceOrAdd(name: "x-forwarded-for", value: "\(existing), \(remote)")
            } else {
                headers.add(name: "x-forwarded-for", value: remote)
            }
        }
        if !headers.contains(name: "x-forwarded-proto") {
            headers.add(name: "x-forwarded-proto", value: "http")
        }
        if !headers.contains(name: "x-request-id") {
            headers.add(name: "x-request-id", value: requestID())
        }
        if let timeout = route.action.timeout {
            headers.replaceOrAdd(name: "x-envoy-expected-rq-timeout-ms", value: String(timeout.milliseconds))
        }
        if let account = downstream.peerServiceAccount {
            headers.add(name: peerServiceAccountHeader, value: account)
        }
        apply(route.headersToAdd, to: &headers)

        var upstream = HTTPRequestHead(version: .http1_1, method: head.method, uri: RouteTable.rewrite(path: head.uri, match: route.route.match, prefixRewrite: route.action.prefixRewrite))
        upstream.headers = headers
        return upstream
    }

    /// The response head sent downstream: hop-by-hop headers go, `server` is ours.
    static func downstreamResponse(_ head: HTTPResponseHead, serverName: String, keepAlive: Bool) -> HTTPResponseHead {
        var headers = HTTPHeaders()
        let listedInConnection = connectionTokens(head.headers)
        for (name, value) in head.headers {
            if isHopByHop(name, listedInConnection: listedInConnection) || name.equalsIgnoringASCIICase("server") { continue }
            headers.add(name: name, value: value)
        }
        headers.add(name: "server", value: serverName)
        if !keepAlive {
            headers.add(name: "connection", value: "close")
        }
        var response = HTTPResponseHead(version: .http1_1, status: head.status)
        response.headers = headers
        return response
    }

    static func apply(_ options: [HeaderValueOption], to headers: inout HTTPHeaders) {
        for option in options {
            switch option.appendAction {
            case .appendIfExistsOrAdd:
                headers.add(name: option.key, value: option.value)
            case .addIfAbsent:
                if !headers.contains(name: option.key) { headers.add(name: option.key, value: option.value) }
            case .overwriteIfExistsOrAdd:
                headers.replaceOrAdd(name: option.key, value: option.value)
            }
        }
    }

    /// Header names the `connection` header lists, lower-cased; none (and no allocation) in
    /// the usual case of a request or response without one.
    private static func connectionTokens(_ headers: HTTPHeaders) -> [String] {
        guard headers.contains(name: "connection") else { return [] }
        return headers[canonicalForm: "connection"].map { $0.lowercased() }
    }

    /// Compared without lower-casing a copy of every header name: this runs for each header
    /// of each request and response.
    private static func isHopByHop(_ name: String, listedInConnection: [String]) -> Bool {
        hopByHop.contains { name.equalsIgnoringASCIICase($0) } || listedInConnection.contains { name.equalsIgnoringASCIICase($0) }
    }
}

extension StringProtocol {
    /// `lowercased` is the other string, which is all lower-case ASCII.
    func equalsIgnoringASCIICase(_ lowercased: String) -> Bool {
        guard utf8.count == lowercased.utf8.count else { return false }
        return zip(utf8, lowercased.utf8).allSatisfy { byte, lower in
            byte == lower || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") && byte | 0x20 == lower)
        }
    }
}

extension Duration {
    var milliseconds: Int64 {
        components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000
    }
}
