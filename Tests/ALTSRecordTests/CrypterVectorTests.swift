import Testing
@testable import ALTSRecord

/// Crypter-level vectors: no framing, counters set to the vector's value.
@Suite("Crypter vectors")
struct CrypterVectorTests {
    private func seal(_ crypter: any ALTSRecordCrypter, counter: ALTSCounter, aad: [UInt8], plaintext: [UInt8]) throws -> [UInt8] {
        var output = [UInt8](repeating: 0, count: plaintext.count + 16)
        try aad.withUnsafeBytes { aad in
            try plaintext.withUnsafeBytes { pt in
                try output.withUnsafeMutableBytes { out in
                    try crypter.seal(counter: counter, aad: aad, plaintext: pt, output: out.baseAddress!)
                }
            }
        }
        return output
    }

    private func open(_ crypter: any ALTSRecordCrypter, counter: ALTSCounter, aad: [UInt8], sealed: [UInt8]) throws -> [UInt8] {
        var output = [UInt8](repeating: 0, count: sealed.count - 16)
        try aad.withUnsafeBytes { aad in
            try sealed.withUnsafeBytes { ct in
                try output.withUnsafeMutableBytes { out in
                    try crypter.open(counter: counter, aad: aad, ciphertextAndTag: ct, output: out.baseAddress)
                }
            }
        }
        return output
    }

    @Test("ALTSRP_GCM_AES128: grpc-go aes128gcm_test.go vectors, seal and open")
    func aes128GCM() throws {
        let vectors = try Vectors.list("aes128gcm_go")
        #expect(vectors.count == 4)
        for vector in vectors {
            let crypter = try makeRecordCrypter(.aes128GCM, keyData: vector.hex("key"))
            let counter = ALTSCounter(bytes: vector.hex("counter"), overflowLength: 5)
            // The sender is the side the counter's direction byte names.
            #expect((counter.bytes[11] & 0x80 != 0 ? "server" : "client") == vector.string("sender"))
            #expect(try seal(crypter, counter: counter, aad: [], plaintext: vector.hex("plaintext")) == vector.hex("ciphertext_and_tag"))
            #expect(try open(crypter, counter: counter, aad: [], sealed: vector.hex("ciphertext_and_tag")) == vector.hex("plaintext"))
        }
    }

    @Test("ALTSRP_GCM_AES128_REKEY: the 24 published AEAD vectors (grpc-go = grpc-java = C-core)")
    func aes128GCMRekey() throws {
        let vectors = try Vectors.list("aes128gcm_rekey_aead")
        #expect(vectors.count == 24)
        for vector in vectors {
            let crypter = try makeRecordCrypter(.aes128GCMRekey, keyData: vector.hex("key"))
            let counter = ALTSCounter(bytes: vector.hex("nonce"), overflowLength: 8)
            let sealed = try seal(crypter, counter: counter, aad: vector.hex("aad"), plaintext: vector.hex("plaintext"))
            #expect(sealed == vector.hex("ciphertext_and_tag"), "\(vector.string("desc"))")
            let opened = try open(crypter, counter: counter, aad: vector.hex("aad"), sealed: vector.hex("ciphertext_and_tag"))
            #expect(opened == vector.hex("plaintext"), "\(vector.string("desc"))")
        }
    }

    @Test("plain AES-GCM: C-core's NIST and IEEE 802.1AE vectors (AES-128 and AES-256)")
    func nistAndIEEE() throws {
        let vectors = try Vectors.list("aes_gcm_core_nist_ieee")
        #expect(vectors.count == 20)
        for vector in vectors {
            let key = vector.hex("key")
            let crypter = try AES128GCMCrypter(key: SecretBytes(key))
            let counter = ALTSCounter(bytes: vector.hex("nonce"), overflowLength: 5)
            let sealed = try seal(crypter, counter: counter, aad: vector.hex("aad"), plaintext: vector.hex("plaintext"))
            #expect(sealed == vector.hex("ciphertext_and_tag"), "\(vector.string("name"))")
            #expect(try open(crypter, counter: counter, aad: vector.hex("aad"), sealed: sealed) == vector.hex("plaintext"))
        }
    }

    @Test("REKEY intermediates: derived key and masked nonce of frames_derived.json")
    func rekeyIntermediates() throws {
        for vector in try Vectors.list("frames_derived") where vector["aead_key"] != nil {
            let key = vector.hex("key")
            let counter = ALTSCounter(bytes: vector.hex("counter"), overflowLength: 8)
            #expect(withUnsafeBytes(of: counter.kdfCounter.littleEndian) { Array($0.prefix(6)) } == vector.hex("kdf_counter"))
            var derived: [UInt8] = []
            try AES128GCMRekeyCrypter.deriveKey(kdfKey: SecretBytes(key[0..<32]), kdfCounter: counter.kdfCounter) { pointer in
                derived = Array(UnsafeRawBufferPointer(start: pointer, count: 16))
            }
            #expect(derived == vector.hex("aead_key"), "\(vector.string("id"))")
            let masked = zip(counter.bytes, key[32..<44]).map { $0 ^ $1 }
            #expect(masked == vector.hex("masked_nonce"), "\(vector.string("id"))")
        }
    }

    @Test("key data shorter than the protocol needs is refused by name and size")
    func shortKeys() {
        #expect(throws: ALTSRecordError(.keyTooShort(recordProtocol: "ALTSRP_GCM_AES128_REKEY", required: 44, actual: 43))) {
            try ALTSRecordProtector(recordProtocol: .aes128GCMRekey, role: .client, keyData: [UInt8](repeating: 0, count: 43))
        }
        #expect(throws: ALTSRecordError(.keyTooShort(recordProtocol: "ALTSRP_GCM_AES128", required: 16, actual: 0))) {
            try ALTSRecordProtector(recordProtocol: .aes128GCM, role: .server, keyData: [UInt8]())
        }
        #expect(ALTSRecordError(.keyTooShort(recordProtocol: "ALTSRP_GCM_AES128_REKEY", required: 44, actual: 43)).description
            == "ALTSRP_GCM_AES128_REKEY needs 44 bytes of key data, got 43")
    }

    @Test("longer key data is truncated to the protocol's length, as gRPC handshakers expect")
    func longKeys() throws {
        let long = [UInt8](repeating: 0, count: 1024)
        let short = [UInt8](repeating: 0, count: 44)
        let a = try ALTSRecordProtector(recordProtocol: .aes128GCMRekey, role: .client, keyData: long)
        let b = try ALTSRecordProtector(recordProtocol: .aes128GCMRekey, role: .client, keyData: short)
        #expect(try a.protect(Array("x".utf8)) == b.protect(Array("x".utf8)))
    }

    @Test("record protocol names")
    func names() throws {
        #expect(try ALTSRecordProtocol(name: "ALTSRP_GCM_AES128_REKEY") == .aes128GCMRekey)
        #expect(try ALTSRecordProtocol(name: "ALTSRP_GCM_AES128") == .aes128GCM)
        #expect(throws: ALTSRecordError(.unsupportedRecordProtocol("ALTSRP_GMAC_128"))) {
            try ALTSRecordProtocol(name: "ALTSRP_GMAC_128")
        }
    }
}
