import ALTSRecord
import COpenSSL
import Logging
import NIOCore
import Synchronization

/// Collects log records so tests can assert on the reason a connection was closed.
final class CapturedLogs: Sendable {
    struct Entry: Sendable {
        let level: Logger.Level
        let message: String
        let metadata: [String: String]
    }

    private let entries = Mutex<[Entry]>([])

    var all: [Entry] { entries.withLock { $0 } }

    func logger(label: String = "test") -> Logger {
        Logger(label: label) { _ in Handler(sink: self) }
    }

    fileprivate func append(_ entry: Entry) {
        entries.withLock { $0.append(entry) }
    }

    private struct Handler: LogHandler {
        let sink: CapturedLogs
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let merged = metadata.merging(event.metadata ?? [:]) { $1 }
            sink.append(Entry(level: event.level, message: "\(event.message)", metadata: merged.mapValues { "\($0)" }))
        }
    }
}

/// Incremental SHA-256 through OpenSSL, to compare what went in with what came out.
final class SHA256Digest {
    private let context: OpaquePointer

    init() {
        context = EVP_MD_CTX_new()!
        precondition(EVP_DigestInit_ex(context, EVP_sha256(), nil) == 1)
    }

    deinit { EVP_MD_CTX_free(context) }

    func update(_ buffer: ByteBuffer) {
        buffer.withUnsafeReadableBytes { raw in
            precondition(EVP_DigestUpdate(context, raw.baseAddress, raw.count) == 1)
        }
    }

    func finish() -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        precondition(EVP_DigestFinal_ex(context, &digest, &length) == 1)
        return digest
    }
}

let testKey = (0..<44).map { UInt8($0 * 3 & 0xff) }

func makePair() throws -> (client: ALTSRecordProtector, server: ALTSRecordProtector) {
    (try ALTSRecordProtector(recordProtocol: .aes128GCMRekey, role: .client, keyData: testKey),
     try ALTSRecordProtector(recordProtocol: .aes128GCMRekey, role: .server, keyData: testKey))
}
