import Foundation
import NIOHTTP1

/// The JSON documents httpbin answers with, built from what the request carried.
struct HTTPBinRequest: Sendable {
    let head: HTTPRequestHead
    let origin: String

    /// Header names in the Title-Case httpbin.org shows; repeated headers joined with ",".
    var headers: [String: String] {
        var result: [String: String] = [:]
        for (name, value) in head.headers {
            let title = name.split(separator: "-", omittingEmptySubsequences: false)
                .map { $0.prefix(1).uppercased() + $0.dropFirst().lowercased() }
                .joined(separator: "-")
            result[title] = result[title].map { $0 + "," + value } ?? value
        }
        return result
    }

    /// Query parameters; a repeated name gives a list, as httpbin.org does.
    var args: [String: Any] {
        guard let components = URLComponents(string: head.uri), let items = components.queryItems else { return [:] }
        var result: [String: Any] = [:]
        for item in items {
            let value = item.value ?? ""
            switch result[item.name] {
            case nil: result[item.name] = value
            case let list as [String]: result[item.name] = list + [value]
            case let single as String: result[item.name] = [single, value]
            default: break
            }
        }
        return result
    }

    var url: String {
        "http://\(head.headers.first(name: "host") ?? "localhost")\(head.uri)"
    }

    func getJSON() -> String {
        Self.render(["args": args, "headers": headers, "origin": origin, "url": url])
    }

    func headersJSON() -> String {
        Self.render(["headers": headers])
    }

    func anythingJSON(bodyBytes: Int, bodySHA256: String) -> String {
        Self.render([
            "args": args, "headers": headers, "origin": origin, "url": url,
            "method": head.method.rawValue, "body_bytes": bodyBytes, "body_sha256": bodySHA256,
        ])
    }

    private static func render(_ object: [String: Any]) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self) + "\n"
    }
}
