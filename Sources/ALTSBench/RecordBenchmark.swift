import ALTSRecord
import ArgumentParser

/// Seal and open throughput of the record protector, framing and REKEY derivation included,
/// into one preallocated output buffer (the protector's allocation-free path).
struct RecordBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "record",
        abstract: "Seal/open throughput for ALTSRP_GCM_AES128_REKEY frames.")

    @Option(help: "Plaintext bytes per frame.")
    var plaintextBytes = 16_384

    @Option(help: "Seconds to run each measurement.")
    var seconds = 2.0

    @Option(help: "Measurements per direction; the median is reported.")
    var repetitions = 3

    func run() throws {
        let frameLength = plaintextBytes + ALTSFrameFormat.minimumLength
        let key = (0..<44).map { UInt8(truncatingIfNeeded: $0 &* 37) }
        // Open needs frames sealed in counter order, so it replays a pre-sealed batch with a
        // fresh receiver per pass. The batch stays small enough to sit in cache, as a socket
        // read buffer does, instead of measuring memory bandwidth; 64 frames keep the
        // receiver's setup cost under a few percent, and it is counted.
        let framesPerBatch = max(4, min(64, (2 << 20) / plaintextBytes))
        let plaintext = UnsafeMutableRawBufferPointer.allocate(byteCount: plaintextBytes, alignment: 64)
        defer { plaintext.deallocate() }
        for index in 0..<plaintextBytes { plaintext[index] = UInt8(truncatingIfNeeded: index) }

        let sealedBatch = UnsafeMutableRawBufferPointer.allocate(byteCount: framesPerBatch * (plaintextBytes + ALTSFrameFormat.overhead), alignment: 64)
        defer { sealedBatch.deallocate() }
        let opened = UnsafeMutableRawBufferPointer.allocate(byteCount: plaintextBytes, alignment: 64)
        defer { opened.deallocate() }

        func sender() throws -> ALTSRecordProtector {
            try ALTSRecordProtector(recordProtocol: .aes128GCMRekey, role: .client, keyData: key, maxSendFrameLength: frameLength)
        }

        // Seal: one frame per call into the same preallocated buffer.
        var sealRates: [Double] = []
        for _ in 0..<repetitions {
            let protector = try sender()
            var output = ALTSPreallocatedBuffer(storage: sealedBatch)
            let input = UnsafeRawBufferPointer(plaintext)
            let rate = try measure(seconds: seconds, bytesPerIteration: plaintextBytes) {
                output.reset()
                try protector.protect(input, into: &output)
            }
            sealRates.append(rate)
        }

        // Open: a pre-sealed batch of frames, one frame per call, a fresh receiver per batch
        // (its counters must start where the sender's did).
        let batchProtector = try sender()
        var batch = ALTSPreallocatedBuffer(storage: sealedBatch)
        for _ in 0..<framesPerBatch {
            try protectFrame(batchProtector, UnsafeRawBufferPointer(plaintext), into: &batch)
        }
        let sealedFrames = batch.bytes
        let frameSize = plaintextBytes + ALTSFrameFormat.overhead
        var openRates: [Double] = []
        for _ in 0..<repetitions {
            var receiver = try ALTSRecordProtector(recordProtocol: .aes128GCMRekey, role: .server, keyData: key)
            var frameIndex = 0
            var output = ALTSPreallocatedBuffer(storage: opened)
            let rate = try measure(seconds: seconds, bytesPerIteration: plaintextBytes) {
                if frameIndex == framesPerBatch {
                    receiver = try ALTSRecordProtector(recordProtocol: .aes128GCMRekey, role: .server, keyData: key)
                    frameIndex = 0
                }
                output.reset()
                let frame = UnsafeRawBufferPointer(rebasing: sealedFrames[(frameIndex * frameSize)..<((frameIndex + 1) * frameSize)])
                guard try receiver.unprotect(frame, into: &output) == frameSize else {
                    throw ValidationError("a frame did not open whole")
                }
                frameIndex += 1
            }
            openRates.append(rate)
        }
        print("seal_MBps=\(format(median(sealRates))) open_MBps=\(format(median(openRates))) plaintext_bytes=\(plaintextBytes) frames_per_call=1")
    }

    private func protectFrame(_ protector: ALTSRecordProtector, _ input: UnsafeRawBufferPointer, into output: inout ALTSPreallocatedBuffer) throws {
        try protector.protect(input, into: &output)
    }

    /// Runs `body` repeatedly for about `seconds`; returns MB/s (10^6 bytes, as openssl speed's k is 10^3).
    private func measure(seconds: Double, bytesPerIteration: Int, _ body: () throws -> Void) throws -> Double {
        let clock = ContinuousClock()
        // Warm up caches, the key schedule and branch predictors.
        for _ in 0..<16 { try body() }
        var iterations = 0
        let start = clock.now
        let deadline = start.advanced(by: .milliseconds(Int(seconds * 1000)))
        var now = start
        while now < deadline {
            for _ in 0..<32 { try body() }
            iterations += 32
            now = clock.now
        }
        let elapsed = start.duration(to: now)
        let secondsElapsed = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return Double(iterations * bytesPerIteration) / secondsElapsed / 1e6
    }

    private func median(_ values: [Double]) -> Double {
        values.sorted()[values.count / 2]
    }

    private func format(_ value: Double) -> String {
        String(Int(value.rounded()))
    }
}
