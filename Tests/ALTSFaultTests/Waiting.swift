import Dispatch

struct NotInTime: Error, CustomStringConvertible {
    let description: String
}

/// Polls `condition` every 10 ms until it holds; throws once `timeout` has passed.
func eventually(_ what: String, timeout: Duration = .seconds(5), _ condition: () throws -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while try !condition() {
        guard ContinuousClock.now < deadline else { throw NotInTime(description: "not within \(timeout): \(what)") }
        try await Task.sleep(for: .milliseconds(10))
    }
}

/// Runs blocking socket work on a Dispatch thread, off Swift's cooperative pool.
func offloaded<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async { continuation.resume(with: Result { try body() }) }
    }
}
