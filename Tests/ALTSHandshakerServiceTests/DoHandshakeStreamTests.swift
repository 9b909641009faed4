@testable import ALTSHandshakerService
import ALTSHandshakerProto
import NIOCore
import NIOEmbedded
import NIOHPACK
import NIOHTTP2
import Testing

/// The client side of `DoHandshake` on one HTTP/2 stream: gRPC's message framing and status
/// trailers, each rejection path, without a socket.
@Suite("DoHandshake stream (client): gRPC framing and status")
struct DoHandshakeStreamTests {
    private struct Harness {
        let channel = EmbeddedChannel()
        let stream = DoHandshakeStream(authority: "127.0.0.1:8080", service: "127.0.0.1:8080")

        init() throws {
            try channel.pipeline.syncOperations.addHandler(stream)
            try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 8080)).wait()
        }

        func send(_ request: Grpc_Gcp_HandshakerReq) -> EventLoopFuture<Grpc_Gcp_HandshakerResp> {
            let promise = channel.eventLoop.makePromise(of: Grpc_Gcp_HandshakerResp.self)
            stream.send(request, promise: promise)
            return promise.futureResult
        }

        func outbound() throws -> [HTTP2Frame.FramePayload] {
            var frames: [HTTP2Frame.FramePayload] = []
            while let frame = try channel.readOutbound(as: HTTP2Frame.FramePayload.self) { frames.append(frame) }
            return frames
        }

        func receive(_ payload: HTTP2Frame.FramePayload) throws {
            try channel.writeInbound(payload)
        }

        func receiveHeaders() throws {
            try receive(.headers(.init(headers: [":status": "200", "content-type": "application/grpc"])))
        }

        func receiveData(_ bytes: [UInt8], endStream: Bool = false) throws {
            try receive(.data(.init(data: .byteBuffer(ByteBuffer(bytes: bytes)), endStream: endStream)))
        }
    }

    private static func framed(_ message: [UInt8], compressed: UInt8 = 0) -> [UInt8] {
        let length = UInt32(message.count)
        return [compressed, UInt8(length >> 24), UInt8(length >> 16 & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length & 0xFF)] + message
    }

    private static func response(outFrames: [UInt8]) throws -> (Grpc_Gcp_HandshakerResp, [UInt8]) {
        var response = Grpc_Gcp_HandshakerResp()
        response.outFrames = .init(outFrames)
        response.bytesConsumed = 7
        response.status.code = 0
        return (response, try response.serializedBytes())
    }

    private static func failure<T>(_ future: EventLoopFuture<T>) -> String? {
        var description: String?
        future.assumeIsolated().whenFailure { description = "\($0)" }
        return description
    }

    @Test("headers first (POST to DoHandshake, application/grpc, te: trailers), then each request as one 5-byte-prefixed DATA frame")
    func requestFraming() throws {
        let harness = try Harness()
        var request = Grpc_Gcp_HandshakerReq()
        request.next.inBytes = .init([1, 2, 3])
        _ = harness.send(request)
        let frames = try harness.outbound()
        #expect(frames.count == 2)
        guard case .headers(let headers) = frames.first, case .data(let data) = frames.last, case .byteBuffer(let body) = data.data else {
            Issue.record("expected HEADERS then DATA, got \(frames)")
            return
        }
        #expect(headers.headers.first(name: ":method") == "POST")
        #expect(headers.headers.first(name: ":path") == "/grpc.gcp.HandshakerService/DoHandshake")
        #expect(headers.headers.first(name: ":authority") == "127.0.0.1:8080")
        #expect(headers.headers.first(name: "content-type") == "application/grpc")
        #expect(headers.headers.first(name: "te") == "trailers")
        #expect(!headers.endStream && !data.endStream)
        #expect(Array(body.readableBytesView) == Self.framed(try request.serializedBytes()))
    }

    @Test("a response split across DATA frames, and two responses in one frame, reach their callers in order")
    func responseDeframing() throws {
        let harness = try Harness()
        let first = harness.send(Grpc_Gcp_HandshakerReq())
        let second = harness.send(Grpc_Gcp_HandshakerReq())
        let third = harness.send(Grpc_Gcp_HandshakerReq())
        let (one, oneBytes) = try Self.response(outFrames: [0xAA])
        let (two, twoBytes) = try Self.response(outFrames: [0xBB, 0xBC])
        let (three, threeBytes) = try Self.response(outFrames: [])
        try harness.receiveHeaders()
        let stream = Self.framed(oneBytes) + Self.framed(twoBytes) + Self.framed(threeBytes)
        try harness.receiveData(Array(stream[..<3]))
        try harness.receiveData(Array(stream[3..<(5 + oneBytes.count + 5 + twoBytes.count)]))
        try harness.receiveData(Array(stream[(5 + oneBytes.count + 5 + twoBytes.count)...]))
        #expect(try first.wait() == one)
        #expect(try second.wait() == two)
        #expect(try third.wait() == three)
    }

    @Test("finish() closes the request stream with an empty END_STREAM DATA frame and succeeds the watcher")
    func finishHalfCloses() throws {
        let harness = try Harness()
        _ = harness.send(Grpc_Gcp_HandshakerReq())
        let watcher = harness.channel.eventLoop.makePromise(of: Void.self)
        harness.stream.watch(watcher)
        _ = try harness.outbound()
        harness.stream.finish()
        let frames = try harness.outbound()
        guard case .data(let data)? = frames.first, case .byteBuffer(let body) = data.data else {
            Issue.record("expected DATA, got \(frames)")
            return
        }
        #expect(data.endStream && body.readableBytes == 0)
        try watcher.futureResult.wait()
    }

    @Test("a non-OK status in the trailers fails the waiting caller and the watcher with that status and its percent-decoded message")
    func statusTrailers() throws {
        let harness = try Harness()
        let answer = harness.send(Grpc_Gcp_HandshakerReq())
        let watcher = harness.channel.eventLoop.makePromise(of: Void.self)
        harness.stream.watch(watcher)
        try harness.receive(.headers(.init(headers: [":status": "200", "content-type": "application/grpc", "grpc-status": "8", "grpc-message": "handshaker busy: 100%25 taken"], endStream: true)))
        #expect(Self.failure(answer) == #"resourceExhausted: "handshaker busy: 100% taken""#)
        #expect(Self.failure(watcher.futureResult) == #"resourceExhausted: "handshaker busy: 100% taken""#)
        // Nothing more can be sent on an ended call.
        #expect(Self.failure(harness.send(Grpc_Gcp_HandshakerReq())) == #"resourceExhausted: "handshaker busy: 100% taken""#)
    }

    @Test("OK trailers while a caller still waits: 'the handshaker service ended the stream'")
    func okTrailersEndEarly() throws {
        let harness = try Harness()
        let answer = harness.send(Grpc_Gcp_HandshakerReq())
        try harness.receiveHeaders()
        try harness.receive(.headers(.init(headers: ["grpc-status": "0"], endStream: true)))
        #expect(Self.failure(answer) == #"unavailable: "the handshaker service ended the stream""#)
    }

    @Test("rejections, each with its reason, and the stream reset: compressed message, oversized length (before buffering), HTTP error, wrong content-type, unsolicited response, undecodable response, RST_STREAM, lost connection")
    func rejections() throws {
        let cases: [(String, (Harness) throws -> Void)] = [
            (#"internalError: "the handshaker service sent a compressed message, which was not negotiated""#, { h in
                try h.receiveHeaders(); try h.receiveData(Self.framed([1], compressed: 1)) }),
            (#"resourceExhausted: "the handshaker service sent a 4294967295-byte message; the limit is 4194304""#, { h in
                try h.receiveHeaders(); try h.receiveData([0, 0xFF, 0xFF, 0xFF, 0xFF]) }),
            (#"unavailable: "the handshaker service answered HTTP status 503""#, { h in
                try h.receive(.headers(.init(headers: [":status": "503"]))) }),
            (#"internalError: "the handshaker service answered with content-type text/html""#, { h in
                try h.receive(.headers(.init(headers: [":status": "200", "content-type": "text/html"]))) }),
            (#"unavailable: "the handshaker service reset the stream (HTTP2ErrorCode<0x2 Internal Error>)""#, { h in
                try h.receive(.rstStream(.internalError)) }),
            (#"unavailable: "the connection to the handshaker service at 127.0.0.1:8080 closed""#, { h in
                h.channel.pipeline.fireChannelInactive() }),
            (#"internalError: "the handshaker service ended the stream without a status""#, { h in
                try h.receiveHeaders(); try h.receiveData([], endStream: true) }),
        ]
        for (expected, act) in cases {
            let harness = try Harness()
            let answer = harness.send(Grpc_Gcp_HandshakerReq())
            try act(harness)
            #expect(Self.failure(answer) == expected)
        }

        // A response with no request waiting for it.
        let unsolicited = try Harness()
        let watcher = unsolicited.channel.eventLoop.makePromise(of: Void.self)
        unsolicited.stream.watch(watcher)
        try unsolicited.receiveHeaders()
        try unsolicited.receiveData(Self.framed(try Self.response(outFrames: []).1))
        #expect(Self.failure(watcher.futureResult) == #"internalError: "the handshaker service sent a response nobody asked for""#)
        #expect(!unsolicited.channel.isActive, "the stream is reset")

        // Bytes that are not a HandshakerResp.
        let garbage = try Harness()
        let answer = garbage.send(Grpc_Gcp_HandshakerReq())
        try garbage.receiveHeaders()
        try garbage.receiveData(Self.framed([0xFF, 0xFF, 0xFF]))
        #expect(Self.failure(answer)?.hasPrefix(#"internalError: "cannot decode the handshaker response: "#) == true)
        #expect(!garbage.channel.isActive)
    }
}
