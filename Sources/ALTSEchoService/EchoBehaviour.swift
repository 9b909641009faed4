/// What the four Echo RPCs answer, shared by both proto package names.
enum EchoBehaviour {
    /// How many responses ServerStreamingEcho sends for one request.
    static let serverStreamingCount = 3

    static func clientStreamingAnswer(_ messages: [String]) -> String {
        messages.joined(separator: " ")
    }
}
