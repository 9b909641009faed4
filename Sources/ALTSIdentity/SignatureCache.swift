import Crypto
import Synchronization

/// Remembers which leaf certificates already had their signature checked
/// against which root of one trust bundle, so repeat handshakes from the same
/// peer skip the ECDSA verification (the dominant cost of `verifyPeer`).
///
/// Why this is safe: the cached fact, "these exact DER bytes carry a valid
/// signature by root N", is a pure function of the leaf bytes and root N's
/// public key. The key is the SHA-256 of the full DER, so a different
/// certificate (any changed byte, including validity or SANs) misses the
/// cache; the roots of a `TrustBundle` are immutable and each bundle value owns
/// its own cache, so adding or removing roots yields a new bundle with an empty
/// cache. Nothing time-dependent or policy-dependent is cached: validity
/// windows, key usage, names and the project binding are re-checked on every
/// call.
final class SignatureCache: Sendable {
    private struct State {
        var rootIndexByLeaf: [SHA256Digest: Int] = [:]
        /// Insertion order, for first-in-first-out eviction.
        var order: [SHA256Digest] = []
        var oldest = 0
    }

    let capacity: Int
    private let state = Mutex(State())

    init(capacity: Int = 1024) {
        precondition(capacity > 0)
        self.capacity = capacity
    }

    func rootIndex(for leaf: SHA256Digest) -> Int? {
        state.withLock { $0.rootIndexByLeaf[leaf] }
    }

    func remember(_ leaf: SHA256Digest, verifiedBy rootIndex: Int) {
        state.withLock { state in
            guard state.rootIndexByLeaf.updateValue(rootIndex, forKey: leaf) == nil else { return }
            if state.order.count < capacity {
                state.order.append(leaf)
            } else {
                state.rootIndexByLeaf.removeValue(forKey: state.order[state.oldest])
                state.order[state.oldest] = leaf
                state.oldest = (state.oldest + 1) % capacity
            }
        }
    }

    var count: Int {
        state.withLock { $0.rootIndexByLeaf.count }
    }
}
