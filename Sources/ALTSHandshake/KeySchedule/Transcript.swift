import Crypto

/// The running SHA-256 over every transcript part, in order. Snapshots do not disturb it.
struct Transcript {
    private var hasher = SHA256()

    mutating func add(_ bytes: [UInt8]) {
        hasher.update(data: bytes)
    }

    var hash: [UInt8] {
        // finalize() is non-mutating: the running state stays as it was.
        Array(hasher.finalize())
    }
}
