import COpenSSL

/// Protects one connection's byte stream with the ALTS record protocol, byte-compatible with
/// gRPC's ALTS frame protector. Sealing turns plaintext into frames; opening turns frames back
/// into plaintext. Pure: bytes in, bytes out, no I/O. Not thread-safe: one per connection,
/// used from one thread (a NIO event loop).
///
/// Any error poisons the protector: every later call fails with `.poisoned`, because after a
/// bad frame the two ends' counters can no longer be trusted to agree.
public final class ALTSRecordProtector {
    public let recordProtocol: ALTSRecordProtocol
    public let role: ALTSRole
    /// The largest length field this end sends; plaintext is split to fit.
    public let maxSendFrameLength: Int
    /// The largest length field this end accepts.
    public let receiveLimit: Int

    private let crypter: any ALTSRecordCrypter
    private var outboundCounter: ALTSCounter
    private var inboundCounter: ALTSCounter
    private var poisonedBy: ALTSRecordError.Kind?

    /// - Parameters:
    ///   - keyData: the handshake's key material; only its first `recordProtocol.keyLength`
    ///     bytes are used (gRPC handshakers return more).
    ///   - maxSendFrameLength: see `ALTSFrameSizing.sendFrameLength(peerMaxFrameSize:)`.
    public convenience init(
        recordProtocol: ALTSRecordProtocol,
        role: ALTSRole,
        keyData: some Collection<UInt8>,
        maxSendFrameLength: Int = ALTSFrameSizing.defaultFrameLength,
        receiveLimit: Int = ALTSFrameSizing.defaultReceiveLimit
    ) throws(ALTSRecordError) {
        let overflow = recordProtocol.counterOverflowLength
        try self.init(
            recordProtocol: recordProtocol, role: role, keyData: keyData,
            maxSendFrameLength: maxSendFrameLength, receiveLimit: receiveLimit,
            outboundCounter: .outbound(role: role, overflowLength: overflow),
            inboundCounter: .inbound(role: role, overflowLength: overflow))
    }

    /// Starts the counters elsewhere than at zero: for published vectors and counter tests.
    init(
        recordProtocol: ALTSRecordProtocol,
        role: ALTSRole,
        keyData: some Collection<UInt8>,
        maxSendFrameLength: Int,
        receiveLimit: Int,
        outboundCounter: ALTSCounter,
        inboundCounter: ALTSCounter
    ) throws(ALTSRecordError) {
        guard ALTSFrameSizing.allowedSendFrameLengths.contains(maxSendFrameLength) else {
            throw ALTSRecordError(.invalidFrameLength(
                name: "max send frame length", value: maxSendFrameLength,
                allowed: ALTSFrameSizing.allowedSendFrameLengths))
        }
        guard ALTSFrameSizing.allowedReceiveLimits.contains(receiveLimit) else {
            throw ALTSRecordError(.invalidFrameLength(
                name: "receive limit", value: receiveLimit, allowed: ALTSFrameSizing.allowedReceiveLimits))
        }
        self.recordProtocol = recordProtocol
        self.role = role
        self.maxSendFrameLength = maxSendFrameLength
        self.receiveLimit = receiveLimit
        self.crypter = try makeRecordCrypter(recordProtocol, keyData: keyData)
        self.outboundCounter = outboundCounter
        self.inboundCounter = inboundCounter
    }

    /// The most plaintext one frame carries.
    public var maxPlaintextPerFrame: Int { maxSendFrameLength - ALTSFrameFormat.minimumLength }

    /// Bytes `protect` writes for `plaintextCount` bytes of plaintext.
    public func protectedSize(plaintextCount: Int) -> Int {
        let frames = max(1, (plaintextCount + maxPlaintextPerFrame - 1) / maxPlaintextPerFrame)
        return plaintextCount + frames * ALTSFrameFormat.overhead
    }

    /// Seals `plaintext` into as many frames as its size needs and appends them to `output`.
    /// An empty plaintext yields one empty frame, as C-core's protector does.
    public func protect<Sink: ALTSByteSink>(
        _ plaintext: UnsafeRawBufferPointer, into output: inout Sink
    ) throws(ALTSRecordError) {
        try checkUsable()
        let total = protectedSize(plaintextCount: plaintext.count)
        do {
            try output.appendUnsafeBytes(capacity: total) { (out) throws(ALTSRecordError) -> Int in
                var readOffset = 0
                var writeOffset = 0
                repeat {
                    let chunk = min(maxPlaintextPerFrame, plaintext.count - readOffset)
                    guard !outboundCounter.isExhausted else { throw ALTSRecordError(.counterExhausted) }
                    let frame = out.baseAddress! + writeOffset
                    ALTSFrameFormat.writeHeader(plaintextCount: chunk, to: frame)
                    try crypter.seal(
                        counter: outboundCounter, aad: AES128GCMCrypter.noAAD,
                        plaintext: UnsafeRawBufferPointer(rebasing: plaintext[readOffset..<(readOffset + chunk)]),
                        output: frame + ALTSFrameFormat.headerSize)
                    outboundCounter.increment()
                    readOffset += chunk
                    writeOffset += chunk + ALTSFrameFormat.overhead
                } while readOffset < plaintext.count
                return writeOffset
            }
        } catch {
            try poison(error)
        }
    }

    /// Opens every complete frame at the front of `input`, appending their plaintext to
    /// `output`, and returns how many input bytes those frames took. A partial frame at the
    /// end is left for the caller to present again with more bytes. Headers are checked before
    /// anything is allocated. All or nothing: if any frame fails, no plaintext is appended.
    public func unprotect<Sink: ALTSByteSink>(
        _ input: UnsafeRawBufferPointer, into output: inout Sink
    ) throws(ALTSRecordError) -> Int {
        try checkUsable()
        do {
            // Pass 1: find the complete frames and validate every header in reach.
            var consumed = 0
            var plaintextTotal = 0
            var frames = 0
            while case .frame(let frameSize) = try ALTSFrameFormat.scanHeader(
                UnsafeRawBufferPointer(rebasing: input[consumed...]), receiveLimit: receiveLimit),
                frameSize <= input.count - consumed
            {
                consumed += frameSize
                plaintextTotal += frameSize - ALTSFrameFormat.overhead
                frames += 1
            }
            guard frames > 0 else { return 0 }
            // Pass 2: authenticate and decrypt them into one reservation.
            try output.appendUnsafeBytes(capacity: plaintextTotal) { (out) throws(ALTSRecordError) -> Int in
                var readOffset = 0
                var writeOffset = 0
                do throws(ALTSRecordError) {
                    while readOffset < consumed {
                        let length = Int(UInt32(littleEndian: input.loadUnaligned(fromByteOffset: readOffset, as: UInt32.self)))
                        let sealedStart = readOffset + ALTSFrameFormat.headerSize
                        let sealedEnd = readOffset + ALTSFrameFormat.lengthFieldSize + length
                        guard !inboundCounter.isExhausted else { throw ALTSRecordError(.counterExhausted) }
                        let destination = out.baseAddress.map { $0 + writeOffset }
                        try crypter.open(
                            counter: inboundCounter, aad: AES128GCMCrypter.noAAD,
                            ciphertextAndTag: UnsafeRawBufferPointer(rebasing: input[sealedStart..<sealedEnd]),
                            output: destination)
                        inboundCounter.increment()
                        writeOffset += sealedEnd - sealedStart - ALTSFrameFormat.tagSize
                        readOffset = sealedEnd
                    }
                } catch {
                    // Earlier frames of this call decrypted fine but are withheld with the rest.
                    if writeOffset > 0 { OPENSSL_cleanse(out.baseAddress, writeOffset) }
                    throw error
                }
                return writeOffset
            }
            return consumed
        } catch {
            try poison(error)
        }
    }

    /// Call when the byte stream ends: fails if a frame was cut off.
    public func checkEndOfStream(bufferedBytes: Int) throws(ALTSRecordError) {
        try checkUsable()
        if bufferedBytes > 0 {
            try poison(ALTSRecordError(.truncatedFrame(bufferedBytes: bufferedBytes)))
        }
    }

    /// Whether an earlier error made this protector unusable.
    public var isPoisoned: Bool { poisonedBy != nil }

    private func checkUsable() throws(ALTSRecordError) {
        if let poisonedBy {
            throw ALTSRecordError(.poisoned(by: poisonedBy))
        }
    }

    private func poison(_ error: ALTSRecordError) throws(ALTSRecordError) -> Never {
        poisonedBy = error.kind
        throw error
    }
}

extension ALTSRecordProtector {
    /// Convenience for callers that hold plaintext in an array.
    public func protect(_ plaintext: [UInt8]) throws(ALTSRecordError) -> [UInt8] {
        var output: [UInt8] = []
        try plaintext.withUnsafeBytesThrowing { (raw) throws(ALTSRecordError) in try protect(raw, into: &output) }
        return output
    }
}
