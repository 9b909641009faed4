import ALTSRecord
import COpenSSL
import Logging
import NIOCore
import Synchronization

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
