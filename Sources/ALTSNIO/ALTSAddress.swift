/// Where to listen or connect: a host and port, or a Unix domain socket.
public enum ALTSAddress: Sendable, Hashable, CustomStringConvertible {
    case host(String, port: Int)
    case unixDomainSocket(path: String)

    /// Parses `HOST:PORT`, `[IPV6]:PORT` or `unix:PATH`, naming what is wrong when it cannot.
    public init(parsing text: String) throws(ALTSAddressError) {
        if text.hasPrefix("unix:") {
            let path = String(text.dropFirst("unix:".count))
            guard !path.isEmpty else { throw ALTSAddressError(text: text, reason: "the socket path is empty") }
            self = .unixDomainSocket(path: path)
            return
        }
        let host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else {
                throw ALTSAddressError(text: text, reason: "expected [IPV6]:PORT")
            }
            host = text[text.index(after: text.startIndex)..<close]
            portText = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":") else {
                throw ALTSAddressError(text: text, reason: "expected HOST:PORT")
            }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
        }
        guard !host.isEmpty else { throw ALTSAddressError(text: text, reason: "the host is empty") }
        guard let port = Int(portText), (0...65_535).contains(port) else {
            throw ALTSAddressError(text: text, reason: "'\(portText)' is not a port number (0-65535)")
        }
        self = .host(String(host), port: port)
    }

    public var description: String {
        switch self {
        case .host(let host, let port): return host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        case .unixDomainSocket(let path): return "unix:\(path)"
        }
    }
}

public struct ALTSAddressError: Error, Hashable, Sendable, CustomStringConvertible {
    public let text: String
    public let reason: String

    public init(text: String, reason: String) {
        self.text = text
        self.reason = reason
    }

    public var description: String { "invalid address '\(text)': \(reason)" }
}
