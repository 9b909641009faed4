import Testing
@testable import ALTSRecord

@Suite("Counters (counters.json)")
struct CounterTests {
    @Test("initial values of the four counters")
    func initialValues() throws {
        let initial = try Vectors.load("counters")["initial_values"] as! [String: Any]
        #expect(ALTSCounter.outbound(role: .client, overflowLength: 8).bytes == initial.hex("client_outbound"))
        #expect(ALTSCounter.inbound(role: .client, overflowLength: 8).bytes == initial.hex("client_inbound"))
        #expect(ALTSCounter.outbound(role: .server, overflowLength: 8).bytes == initial.hex("server_outbound"))
        #expect(ALTSCounter.inbound(role: .server, overflowLength: 8).bytes == initial.hex("server_inbound"))
    }

    @Test("overflow lengths per record protocol")
    func overflowLengths() throws {
        let lengths = try Vectors.load("counters")["overflow_bytes"] as! [String: Int]
        #expect(ALTSRecordProtocol.aes128GCM.counterOverflowLength == lengths["ALTSRP_GCM_AES128"])
        #expect(ALTSRecordProtocol.aes128GCMRekey.counterOverflowLength == lengths["ALTSRP_GCM_AES128_REKEY"])
    }

    @Test("increment vectors with overflow length 5")
    func increments() throws {
        let section = try Vectors.load("counters")["increment_vectors"] as! [String: Any]
        let vectors = section["vectors"] as! [[String: Any]]
        #expect(vectors.count == 6)
        for vector in vectors {
            var counter = ALTSCounter(bytes: vector.hex("before"), overflowLength: 5)
            counter.increment()
            #expect(!counter.isExhausted)
            #expect(counter.bytes == vector.hex("after"))
        }
    }

    @Test("rollover: the all-0xff value is usable once, the next increment exhausts")
    func rollover() throws {
        let section = try Vectors.load("counters")["rollover_vectors"] as! [String: Any]
        let vectors = section["vectors"] as! [[String: Any]]
        #expect(vectors.count == 4)
        for vector in vectors {
            let lengths = vector.string("desc").contains("rekeying mode") ? [5, 8] : [5]
            for overflow in lengths {
                var counter = ALTSCounter(bytes: vector.hex("value"), overflowLength: overflow)
                counter.increment()
                #expect(!counter.isExhausted)
                counter.increment()
                #expect(counter.isExhausted)
            }
        }
    }

    @Test("bytes beyond the overflow length never change")
    func highBytesStay() {
        var counter = ALTSCounter(bytes: [0xff, 0xff, 0xff, 0xff, 0x00, 0xaa, 0xbb, 0xcc, 1, 2, 3, 0x80], overflowLength: 5)
        counter.increment()
        #expect(counter.bytes == [0, 0, 0, 0, 1, 0xaa, 0xbb, 0xcc, 1, 2, 3, 0x80])
    }

    @Test("a protector refuses to seal past an exhausted counter, then stays poisoned")
    func exhaustionIsFatal() throws {
        let key = [UInt8](repeating: 7, count: 16)
        let sender = try makeProtector(.aes128GCM, role: .client, key: key, outbound: [0xfe, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0])
        _ = try sender.protect([1])
        _ = try sender.protect([2])  // the all-0xff value
        #expect(throws: ALTSRecordError(.counterExhausted)) { try sender.protect([3]) }
        #expect(throws: ALTSRecordError(.poisoned(by: .counterExhausted))) { try sender.protect([4]) }
    }

    @Test("a receiver refuses a record past its exhausted counter")
    func inboundExhaustion() throws {
        let key = [UInt8](repeating: 9, count: 44)
        let last: [UInt8] = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]
        let sender = try makeProtector(.aes128GCMRekey, role: .client, key: key, outbound: last)
        let receiver = try makeProtector(.aes128GCMRekey, role: .server, key: key, inbound: last)
        let frame = try sender.protect(Array("last".utf8))
        #expect(try openAll(receiver, frame) == Array("last".utf8))
        #expect(throws: ALTSRecordError(.counterExhausted)) { try openAll(receiver, frame) }
    }
}
