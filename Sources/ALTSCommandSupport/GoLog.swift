import Foundation
import Logging
import Synchronization

/// Log lines in the format of Go's standard `log` package (`2006/01/02 15:04:05 message`), which
/// the seed's Go helloworld prints and which operators of the Go example will grep for.
public enum GoLog {
    /// `YYYY/MM/DD HH:MM:SS ` in local time. Formatted once per second: the handshaker logs a
    /// line per handshake, and `localtime_r` with `String(format:)` cost more than the line.
    public static func prefix(for date: Date = Date()) -> String {
        let second = Int(date.timeIntervalSince1970.rounded(.down))
        if let cached = lastPrefix.withLock({ $0.second == second ? $0.text : nil }) { return cached }
        var seconds = time_t(second)
        var parts = tm()
        localtime_r(&seconds, &parts)
        func padded(_ value: Int32, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        let text = padded(parts.tm_year + 1900, 4) + "/" + padded(parts.tm_mon + 1, 2) + "/" + padded(parts.tm_mday, 2) + " "
            + padded(parts.tm_hour, 2) + ":" + padded(parts.tm_min, 2) + ":" + padded(parts.tm_sec, 2) + " "
        lastPrefix.withLock { $0 = (second, text) }
        return text
    }

    private static let lastPrefix = Mutex<(second: Int, text: String)>((-1, ""))

    /// Writes one line to stderr, unbuffered, like Go's `log.Printf`.
    public static func print(_ message: String) {
        FileHandle.standardError.write(Data((prefix() + message + "\n").utf8))
    }
}

/// A swift-log handler that writes Go-format lines to stderr, with metadata as `key=value`.
public struct GoLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    private let label: String

    public init(label: String, level: Logger.Level = .info) {
        self.label = label
        self.logLevel = level
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        let fields = merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        let level = event.level == .info || event.level == .notice ? "" : "[\(event.level)] "
        GoLog.print(level + "\(event.message)" + (fields.isEmpty ? "" : " " + fields))
    }
}
