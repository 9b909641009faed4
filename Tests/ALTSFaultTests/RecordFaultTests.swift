import ALTSHandshake
import ALTSIdentity
import ALTSNIO
import ALTSRecord
import ALTSTestSupport
import Foundation
import NIOCore
import NIOPosix
import Testing

/// Faults on an established ALTS connection, from a client that speaks the protocol for
/// real and then misbehaves on the wire, against the production handshake and record handlers.
@Suite("Record-layer faults over loopback sockets")
struct RecordFaultTests {
    static let serverAccount = "alts-server@alpha.iam.gserviceaccount.com"
    static let ping = Array("ping".utf8)

    private struct World {
        let server: LoopbackALTSServer
        let clientCredential: ALTSCredential
    }

    private func withWorld(_ body: (World) async throws -> Void) async throws {
        let credentials = try TestCredentials()
        let store = try CredentialStore(directory: try credentials.issue("alts-server", project: "alpha"))
        let clientCredential = try credentials.credential("alts-client", project: "alpha")
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        do {
            let server = try await LoopbackALTSServer(group: group, handshakers: .inProcess(credentials: store, options: ALTSHandshakeOptions()))
            try await body(World(server: server, clientCredential: clientCredential))
            try await server.channel.close()
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
        try await group.shutdownGracefully()
    }

    /// A fresh connection that handshakes and gets its ping echoed: the server still serves.
    private func stillServes(_ world: World) async throws {
        let port = world.server.port, credential = world.clientCredential
        let (peer, echo) = try await offloaded {
            let client = try ManualALTSClient(port: port, credential: credential)
            try client.socket.write(try client.seal(Self.ping))
            return (client.peerServiceAccount, try client.receive(count: 4))
        }
        #expect(peer == Self.serverAccount)
        #expect(echo == Self.ping)
    }

    @Test("a peer that resets in the middle of a frame: that connection ends with 'stream ended inside a frame'; the next one is served")
    func resetMidFrame() async throws {
        try await withWorld { world in
            let port = world.server.port, credential = world.clientCredential
            let half = 512
            let echoed = try await offloaded {
                let client = try ManualALTSClient(port: port, credential: credential)
                let whole = try client.seal(Self.ping)
                let next = try client.seal([UInt8](repeating: 0x42, count: 1_000))
                // One send: the echo of the whole frame proves the server has read the half too.
                try client.socket.write(whole + next.prefix(half))
                let echo = try client.receive(count: Self.ping.count)
                client.socket.reset()
                return echo
            }
            #expect(echoed == Self.ping)
            let trace = try await world.server.connection(0)
            try await eventually("the reset connection is closed") { trace.closed }
            #expect(trace.received == Self.ping, "nothing of the half frame is delivered")
            let errors = trace.errors
            #expect(errors.count == 2, "\(errors)")
            #expect((errors.first as? IOError)?.errnoCode == ECONNRESET, "the socket reports the reset: \(errors)")
            #expect(errors.last as? ALTSRecordError == ALTSRecordError(.truncatedFrame(bufferedBytes: half)))
            let logged = world.server.logs.errors
            #expect(logged.map(\.message) == ["closing ALTS connection: record protocol error"])
            #expect(logged.first?.metadata["error"] == "stream ended inside a frame (512 bytes buffered)")
            try await stillServes(world)
        }
    }

    @Test("a frame length of 0xFFFFFFFF closes the connection from its 4 length bytes alone; the server goes on")
    func maximalLength() async throws {
        try await withWorld { world in
            let port = world.server.port, credential = world.clientCredential
            let (echo, afterLength) = try await offloaded {
                let client = try ManualALTSClient(port: port, credential: credential)
                try client.socket.write(try client.seal(Self.ping))
                let echo = try client.receive(count: Self.ping.count)
                // Nothing follows the length: the server must decide from these 4 bytes.
                try client.socket.write([0xFF, 0xFF, 0xFF, 0xFF])
                return (echo, try client.socket.readToEnd(timeout: .seconds(5)))
            }
            #expect(echo == Self.ping)
            #expect(afterLength == [], "the server closes without sending anything more")
            let trace = try await world.server.connection(0)
            try await eventually("the connection is closed") { trace.closed }
            #expect(trace.errors.map { $0 as? ALTSRecordError } == [ALTSRecordError(.frameTooLarge(length: 0xFFFF_FFFF, limit: 1_048_576))])
            #expect(trace.received == Self.ping)
            let logged = world.server.logs.errors
            #expect(logged.map(\.message) == ["closing ALTS connection: record protocol error"])
            #expect(logged.first?.metadata["error"] == "frame length 4294967295 is larger than the limit 1048576")
            try await stillServes(world)
        }
    }
}
