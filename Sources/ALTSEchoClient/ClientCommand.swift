import ALTSCommandSupport
import ALTSEchoProto
import ALTSGRPC
import ALTSHandshake
import ALTSHandshakerService
import ALTSIdentity
import ALTSNIO
import ArgumentParser
import Foundation
import GRPCCore
import Logging
import NIOCore
import NIOPosix

/// The helloworld Echo client over ALTS: the Swift counterpart of the seed's Go `client`.
@main
struct ClientCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "client",
        abstract: "Calls UnaryEcho over ALTS and prints who answered.",
        discussion: "Credentials come from --credentials, else $ALTS_CREDENTIALS, else /etc/alts.")

    @Option(help: "Server address, HOST:PORT.")
    var addr: String

    @Option(name: .customLong("targetServiceAccount"), help: "Accept only a server with this account (repeatable). Without it, any server the trust bundle vouches for is accepted.")
    var targetServiceAccounts: [String] = []

    @Option(help: "The message to echo.")
    var message = "hello world"

    @Option(help: "Bound on connect, handshake and RPC together (e.g. 10s, 500ms).")
    var timeout = "10s"

    @Option(help: "Credential directory (see docs/CREDENTIALS.md).")
    var credentials: String?

    @Option(name: .customLong("handshakerService"), help: "Hand the handshake to this handshaker service (HOST:PORT or unix:PATH) instead of using local credentials.")
    var handshakerService: String?

    func run() async throws {
        do {
            let timeout = try CommandTimeout(parsing: self.timeout)
            let address = try ALTSAddress(parsing: addr)
            let mode = try HandshakeMode.choose(credentials: credentials, handshakerService: handshakerService)
            if targetServiceAccounts.isEmpty {
                GoLog.print("no --targetServiceAccount given: accepting any server account the trust bundle vouches for")
            }
            var options = ALTSHandshakeOptions()
            options.targetServiceAccounts = targetServiceAccounts
            var config = ALTSClientTransport.Config()
            config.connectTimeout = timeout.timeAmount
            config.handshake.handshakeTimeout = timeout.timeAmount
            let handshakers: ALTSHandshakerFactory
            switch mode {
            case .credentials(let store):
                handshakers = .inProcess(credentials: store, options: options)
            case .handshakerService(let service):
                handshakers = .handshakerService(try ALTSHandshakerServiceClient(address: service), options: options)
            }
            let message = self.message
            let transportConfig = config
            let (reply, authInfo) = try await withCommandTimeout(timeout, what: "UnaryEcho to \(address)") {
                let transport = try await ALTSClientTransport.connect(
                    to: address, handshakers: handshakers, config: transportConfig,
                    // The failure is reported once, as this command's one-line error.
                    logger: Logger(label: "client", factory: { SwiftLogNoOpLogHandler($0) }))
                do {
                    let reply = try await withGRPCClient(transport: transport) { client in
                        var options = CallOptions.defaults
                        options.timeout = timeout.duration
                        return try await Grpc_Examples_Echo_Echo.Client(wrapping: client).unaryEcho(
                            request: ClientRequest(message: .with { $0.message = message }), options: options
                        ) { try $0.message.message }
                    }
                    return (reply, transport.authInfo)
                } catch let error as RPCError where error.code == .unavailable {
                    // The connection died under the RPC; its own error says why.
                    throw transport.connectionError ?? error
                }
            }
            GoLog.print("AuthInfo PeerServiceAccount: \(authInfo.peerServiceAccount)")
            GoLog.print("AuthInfo LocalServiceAccount: \(authInfo.localServiceAccount)")
            // fmt.Println("UnaryEcho: ", msg) in the Go client: two spaces.
            print("UnaryEcho:  \(reply)")
        } catch {
            FileHandle.standardError.write(Data("client: error: \(CommandFailure.describe(error, address: addr))\n".utf8))
            throw ExitCode(1)
        }
    }
}
