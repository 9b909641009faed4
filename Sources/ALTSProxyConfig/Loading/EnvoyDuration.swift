/// google.protobuf.Duration as Envoy's YAML writes it: a string of seconds with an `s` suffix
/// and up to nine fractional digits (`"5s"`, `"0.25s"`, `"1.5s"`), or the message form
/// `{ seconds: N, nanos: M }`.
enum EnvoyDuration {
    /// protobuf's limit: ±10,000 years.
    static let maxSeconds: Int64 = 315_576_000_000

    /// Parses the string form; nil with a reason when it is not one.
    static func parse(_ text: String) -> Result<Duration, DurationSyntaxError> {
        guard text.hasSuffix("s") else {
            return .failure(DurationSyntaxError("a duration is seconds with an 's' suffix, like \"0.25s\" or \"5s\""))
        }
        var body = Substring(text.dropLast())
        if body.hasPrefix("-") {
            return .failure(DurationSyntaxError("a duration must not be negative"))
        }
        if body.hasPrefix("+") { body = body.dropFirst() }
        let parts = body.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        let whole = parts[0]
        guard !whole.isEmpty, whole.allSatisfy({ $0.isASCII && $0.isNumber }) else {
            return .failure(DurationSyntaxError("a duration is seconds with an 's' suffix, like \"0.25s\" or \"5s\""))
        }
        guard whole.count <= 12, let seconds = Int64(whole), seconds <= maxSeconds else {
            return .failure(DurationSyntaxError("a duration must be at most \(maxSeconds)s"))
        }
        var nanos: Int64 = 0
        if parts.count == 2 {
            let fraction = parts[1]
            guard (1...9).contains(fraction.count), fraction.allSatisfy({ $0.isASCII && $0.isNumber }) else {
                return .failure(DurationSyntaxError("a duration has 1 to 9 fractional digits, like \"0.25s\""))
            }
            nanos = Int64(fraction + String(repeating: "0", count: 9 - fraction.count))!
        }
        return .success(.seconds(seconds) + .nanoseconds(nanos))
    }

    /// The proto3 JSON form: whole seconds as `"5s"`, else 3, 6 or 9 fractional digits
    /// (`"0.250s"`), as Envoy's config_dump prints durations.
    static func format(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        let nanos = attoseconds / 1_000_000_000
        if nanos == 0 { return "\(seconds)s" }
        let digits: Int
        let scaled: Int64
        if nanos % 1_000_000 == 0 {
            digits = 3
            scaled = nanos / 1_000_000
        } else if nanos % 1000 == 0 {
            digits = 6
            scaled = nanos / 1000
        } else {
            digits = 9
            scaled = nanos
        }
        let fraction = String(scaled)
        return "\(seconds).\(String(repeating: "0", count: digits - fraction.count))\(fraction)s"
    }
}

struct DurationSyntaxError: Error {
    let message: String
    init(_ message: String) { self.message = message }
}

extension ConfigNode {
    /// A non-negative duration in either form.
    func duration() throws(ProxyConfigError) -> Duration {
        if case .mapping = node {
            let mapping = try self.mapping(supported: ["seconds", "nanos"])
            let seconds = try mapping["seconds"]?.integer() ?? 0
            let nanos = try mapping["nanos"]?.integer() ?? 0
            guard seconds >= 0, nanos >= 0 else { throw error("a duration must not be negative") }
            guard seconds <= EnvoyDuration.maxSeconds else { throw error("a duration must be at most \(EnvoyDuration.maxSeconds)s") }
            guard nanos <= 999_999_999 else { throw error("nanos must be at most 999999999") }
            return .seconds(seconds) + .nanoseconds(nanos)
        }
        let text: String
        do {
            text = try string()
        } catch {
            throw self.error("expected a duration like \"5s\" or \"0.25s\", got \(kindDescription)")
        }
        switch EnvoyDuration.parse(text) {
        case .success(let duration): return duration
        case .failure(let failure): throw error("invalid duration '\(text)': \(failure.message)")
        }
    }

    /// A timeout where `0s` means disabled (nil), as for Envoy's route and idle timeouts.
    func timeoutDisabledByZero() throws(ProxyConfigError) -> Duration? {
        let value = try duration()
        return value == .zero ? nil : value
    }
}
