import ALTSGRPC
import GRPCCore

/// Answers every RPC with the caller's account and certificate fingerprint as the server's
/// handshake saw them, so a test can tell which client certificate each RPC came in on.
struct PeerCertificateService: RegistrableRPCService {
    static let method = MethodDescriptor(fullyQualifiedService: "fault.PeerCertificate", method: "Ask")

    struct Answer: Equatable, Sendable {
        let peerServiceAccount: String
        let peerCertificateSHA256: String
        let message: String
    }

    func registerMethods<Transport: ServerTransport>(with router: inout RPCRouter<Transport>) {
        router.registerHandler(forMethod: Self.method, deserializer: StringCoder(), serializer: StringCoder()) { request, context in
            var message = ""
            for try await part in request.messages { message += part }
            guard let info = context.altsAuthInfo else { throw RPCError(code: .unauthenticated, message: "no ALTS AuthInfo") }
            let answer = [info.peerServiceAccount, info.peerAttributes["certificate_sha256"] ?? "-", message].joined(separator: "\n")
            return StreamingServerResponse(single: ServerResponse(message: answer))
        }
    }

    static func ask<Transport: ClientTransport>(_ client: GRPCClient<Transport>, _ message: String) async throws -> Answer {
        let reply = try await client.unary(
            request: ClientRequest(message: message), descriptor: method, serializer: StringCoder(), deserializer: StringCoder(),
            options: .defaults
        ) { try $0.message }
        let parts = reply.split(separator: "\n", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 3 else { throw RPCError(code: .internalError, message: "malformed answer '\(reply)'") }
        return Answer(peerServiceAccount: parts[0], peerCertificateSHA256: parts[1], message: parts[2])
    }
}

/// UTF-8 strings as gRPC messages: no generated code needed.
struct StringCoder: MessageSerializer, MessageDeserializer {
    func serialize<Bytes: GRPCContiguousBytes>(_ message: String) throws -> Bytes { Bytes(Array(message.utf8)) }
    func deserialize<Bytes: GRPCContiguousBytes>(_ bytes: Bytes) throws -> String {
        bytes.withUnsafeBytes { String(decoding: $0, as: UTF8.self) }
    }
}
