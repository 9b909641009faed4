import Testing
@testable import ALTSRecord

@Suite("Frame vectors (frames_derived.json)")
struct FrameVectorTests {
    @Test("sender side: protect produces exactly the frame", arguments: ["A1", "A2", "A3", "B1", "B2", "B3", "B4", "C1", "C2", "D1", "D2", "D3", "D4", "D5", "D6"])
    func seal(id: String) throws {
        let vector = try Vectors.list("frames_derived").first { $0.string("id") == id }!
        let recordProtocol = try ALTSRecordProtocol(name: vector.string("record_protocol"))
        let role: ALTSRole = vector.string("sender") == "client" ? .client : .server
        let sender = try makeProtector(recordProtocol, role: role, key: vector.hex("key"), outbound: vector.hex("counter"))
        #expect(try sender.protect(vector.hex("plaintext")) == vector.hex("frame"))
    }

    @Test("receiver side: the opposite role opens the frame", arguments: ["A1", "A2", "A3", "B1", "B2", "B3", "B4", "C1", "C2", "D1", "D2", "D3", "D4", "D5", "D6"])
    func open(id: String) throws {
        let vector = try Vectors.list("frames_derived").first { $0.string("id") == id }!
        let recordProtocol = try ALTSRecordProtocol(name: vector.string("record_protocol"))
        let sender: ALTSRole = vector.string("sender") == "client" ? .client : .server
        let receiver = try makeProtector(recordProtocol, role: sender.peer, key: vector.hex("key"), inbound: vector.hex("counter"))
        #expect(try openAll(receiver, vector.hex("frame")) == vector.hex("plaintext"))
    }

    @Test("every vector is covered")
    func coverage() throws {
        #expect(try Vectors.list("frames_derived").count == 16)
    }

    @Test("F1: a 4073-byte write split by a 4096-byte grpc-go record size, both directions")
    func multiFrame() throws {
        let vector = try Vectors.list("frames_derived").first { $0.string("id") == "F1" }!
        let key = vector.hex("key")
        let frames = (vector["frames"] as! [String]).map { [UInt8](hex: $0) }
        #expect(vector["payload_split"] as! [Int] == [4072, 1])
        // grpc-go's 4096 counts the whole frame; our limit is the length field: 4096 - 4.
        let sender = try makeProtector(.aes128GCMRekey, role: .client, key: key, maxSendFrameLength: 4092)
        let wire = try sender.protect(vector.hex("plaintext"))
        #expect(wire == vector.hex("wire"))
        #expect(wire == frames.flatMap { $0 })
        let receiver = try makeProtector(.aes128GCMRekey, role: .server, key: key)
        #expect(try openAll(receiver, wire) == vector.hex("plaintext"))
    }
}
