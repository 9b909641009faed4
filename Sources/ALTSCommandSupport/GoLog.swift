import Foundation
import Logging

/// Log lines in the format of Go's standard `log` package (`2006/01/02 15:04:05 message`), which
/// the seed's Go helloworld prints and which operators of the Go example will grep for.
public enum GoLog {
    /// `YYYY/MM/DD HH:MM:SS ` in local time.
    public static func prefix(for date: Date = Date()) -> String {
        var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        localtime_r(&seconds, &parts)
        return String(
            format: "%04d/%02d/%02d %02d:%02d:%02d ",
            Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday),
            Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec))
    }

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
