import ALTSIdentity
import NIOCore

/// A `--timeout` value: Go-style durations (`500ms` aside, `10s`, `1m30s`).
public struct CommandTimeout: Sendable {
    public let seconds: Double

    public init(parsing text: String) throws {
        if text.hasSuffix("ms"), let milliseconds = Double(text.dropLast(2)), milliseconds > 0 {
            seconds = milliseconds / 1_000
            return
        }
        seconds = try DurationParser.parse(text)
    }

    public var timeAmount: TimeAmount { .nanoseconds(Int64(seconds * 1_000_000_000)) }
    public var duration: Duration { .milliseconds(Int64(seconds * 1_000)) }
    public var description: String { seconds == seconds.rounded() ? "\(Int(seconds))s" : "\(seconds)s" }
}

public struct CommandTimedOut: Error, CustomStringConvertible {
    public let after: CommandTimeout
    public let what: String

    public var description: String { "\(what) timed out after \(after.description)" }
}

/// Runs `body`, failing with `CommandTimedOut` if it has not finished in time.
public func withCommandTimeout<T: Sendable>(
    _ timeout: CommandTimeout, what: String, _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: timeout.duration)
            throw CommandTimedOut(after: timeout, what: what)
        }
        defer { group.cancelAll() }
        return try await group.next()!
    }
}
