import NIOHTTP1

/// What a request asks for, decided from its method and path alone.
enum HTTPBinEndpoint: Equatable {
    case get
    case headers
    case anything
    case hello
    case bytes(Int)
    case status(Int)
    case delay(Int)
    case methodNotAllowed
    case badRequest(String)
    case notFound

    /// /bytes/N stops here: 1 TiB, far past any test, short of overflowing a counter.
    static let maxBytes = 1 << 40
    static let maxDelaySeconds = 60

    init(method: HTTPMethod, uri: String) {
        let path = uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)[0]
        let parts = path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        let readOnly = method == .GET || method == .HEAD
        switch parts.first {
        case "get" where parts.count == 1:
            self = readOnly ? .get : .methodNotAllowed
        case "headers" where parts.count == 1:
            self = readOnly ? .headers : .methodNotAllowed
        case "hello" where parts.count == 1:
            self = readOnly ? .hello : .methodNotAllowed
        case "anything":
            self = .anything
        case "post" where parts.count == 1:
            self = method == .POST ? .anything : .methodNotAllowed
        case "bytes" where parts.count == 2:
            guard let count = Int(parts[1]), (0...Self.maxBytes).contains(count) else {
                self = .badRequest("/bytes/N takes N from 0 to \(Self.maxBytes)")
                return
            }
            self = readOnly ? .bytes(count) : .methodNotAllowed
        case "status" where parts.count == 2:
            guard let code = Int(parts[1]), (200...599).contains(code) else {
                self = .badRequest("/status/N takes N from 200 to 599")
                return
            }
            self = .status(code)
        case "delay" where parts.count == 2:
            guard let seconds = Int(parts[1]), (0...Self.maxDelaySeconds).contains(seconds) else {
                self = .badRequest("/delay/S takes S from 0 to \(Self.maxDelaySeconds)")
                return
            }
            self = readOnly ? .delay(seconds) : .methodNotAllowed
        default:
            self = .notFound
        }
    }

    var hashesBody: Bool { self == .anything }
}
