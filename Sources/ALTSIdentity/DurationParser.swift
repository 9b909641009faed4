import Foundation

/// Go-style durations (`90s`, `30m`, `24h`, `1h30m`, `1.5h`), plus `d` for days
/// because certificate lifetimes are usually counted in days.
public enum DurationParser {
    /// Longer lifetimes are almost certainly typos, and far-future dates
    /// overflow what X.509 validity can encode.
    public static let maximum: TimeInterval = 100 * 365 * 24 * 60 * 60

    private static let unitSeconds: [String: Double] = [
        "ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86_400,
    ]

    /// Parses a positive duration into seconds.
    public static func parse(_ text: String) throws(IdentityError) -> TimeInterval {
        let invalid = IdentityError(.invalidDuration(text))
        var rest = Substring(text)
        var total: Double = 0
        guard !rest.isEmpty else { throw invalid }
        while !rest.isEmpty {
            let number = rest.prefix(while: { $0.isASCII && ($0.isNumber || $0 == ".") })
            rest = rest.dropFirst(number.count)
            let unit = rest.prefix(while: { $0.isASCII && $0.isLetter })
            rest = rest.dropFirst(unit.count)
            guard let value = Double(number), value.isFinite, let scale = unitSeconds[String(unit)] else {
                throw invalid
            }
            total += value * scale
        }
        guard total > 0, total <= maximum else { throw invalid }
        return total
    }
}
