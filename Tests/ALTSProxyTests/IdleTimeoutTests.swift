@testable import ALTSProxy
import NIOCore
import NIOEmbedded
import Testing

@Suite("stream_idle_timeout / tcp_proxy idle_timeout (IdleTimeoutHandler)")
struct IdleTimeoutTests {
    private func activeChannel(timeout: TimeAmount) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel(handler: IdleTimeoutHandler(timeout: timeout))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        return channel
    }

    @Test("a connection with no reads or writes closes at the timeout, not before")
    func idleCloses() throws {
        let channel = try activeChannel(timeout: .seconds(10))
        channel.embeddedEventLoop.advanceTime(by: .seconds(9))
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .seconds(1))
        #expect(!channel.isActive)
    }

    @Test("reads and flushed writes each push the deadline back by the whole timeout")
    func activityPostpones() throws {
        let channel = try activeChannel(timeout: .seconds(10))
        channel.embeddedEventLoop.advanceTime(by: .seconds(8))
        try channel.writeInbound(ByteBuffer(string: "request"))
        channel.pipeline.fireChannelReadComplete()
        channel.embeddedEventLoop.advanceTime(by: .seconds(8))  // t = 16: 8 s after the read
        #expect(channel.isActive)
        try channel.writeOutbound(ByteBuffer(string: "response"))  // write + flush at t = 16
        channel.embeddedEventLoop.advanceTime(by: .seconds(9))  // t = 25
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .seconds(1))  // t = 26: 10 s after the flush
        #expect(!channel.isActive)
    }

    @Test("a write that is never flushed is not activity")
    func unflushedWriteIsNotActivity() throws {
        let channel = try activeChannel(timeout: .seconds(10))
        channel.embeddedEventLoop.advanceTime(by: .seconds(5))
        channel.write(ByteBuffer(string: "held"), promise: nil)
        channel.embeddedEventLoop.advanceTime(by: .seconds(5))
        #expect(!channel.isActive)
    }
}
