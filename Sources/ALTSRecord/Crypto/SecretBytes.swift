import COpenSSL

/// Key material in memory we own, so it can be wiped when no longer needed. Swift arrays
/// may be copied behind our back; this buffer is allocated once and never copied.
final class SecretBytes {
    let count: Int
    private let storage: UnsafeMutableRawBufferPointer

    init(_ bytes: some Collection<UInt8>) {
        count = bytes.count
        storage = .allocate(byteCount: max(count, 1), alignment: 16)
        _ = storage.initializeMemory(as: UInt8.self, from: bytes)
    }

    var pointer: UnsafeRawPointer { UnsafeRawPointer(storage.baseAddress!) }

    func withUnsafeBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        try body(UnsafeRawBufferPointer(rebasing: storage[0..<count]))
    }

    deinit {
        OPENSSL_cleanse(storage.baseAddress, storage.count)
        storage.deallocate()
    }
}
