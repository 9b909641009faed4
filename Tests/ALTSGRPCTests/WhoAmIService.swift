import ALTSGRPC
import GRPCCore

/// UTF-8 strings as gRPC messages, so these tests need no generated code.
struct StringCoder: MessageSerializer, MessageDeserializer {
    func serialize<Bytes: GRPCContiguousBytes>(_ message: String) throws -> Bytes {
        Bytes(Array(message.utf8))
    }

    func deserialize<Bytes: GRPCContiguousBytes>(_ serializedMessageBytes: Bytes) throws -> String {
        serializedMessageBytes.withUnsafeBytes { String(decoding: $0, as: UTF8.self) }
    }
}

/// Answers with what the transport told it about the connection.
struct WhoAmIService: RegistrableRPCService {
    static let method = MethodDescriptor(fullyQualifiedService: "test.WhoAmI", method: "Ask")

    func registerMethods<Transport: ServerTransport>(with router: inout RPCRouter<Transport>) {
        router.registerHandler(forMethod: Self.method, deserializer: StringCoder(), serializer: StringCoder()) { request, context in
            var message = ""
            for try await part in request.messages { message += part }
            guard let info = context.altsAuthInfo else {
                throw RPCError(code: .unauthenticated, message: "no ALTS AuthInfo")
            }
            let answer = "peer=\(info.peerServiceAccount) local=\(info.localServiceAccount) protocol=\(info.recordProtocol) message=\(message)"
            return StreamingServerResponse(single: ServerResponse(message: answer))
        }
    }
}

func ask<Transport: ClientTransport>(_ client: GRPCClient<Transport>, _ message: String) async throws -> String {
    try await client.unary(
        request: ClientRequest(message: message), descriptor: WhoAmIService.method,
        serializer: StringCoder(), deserializer: StringCoder(), options: .defaults
    ) { try $0.message }
}
