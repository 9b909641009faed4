/// ClientInit and ServerInit travel in the clear; ServerAuth and ClientAuth carry an
/// `AuthPayload` encrypted under the sender's handshake key. Layouts: docs/PROTOCOL.md.
struct ClientInit {
    var version: UInt16 = HandshakeLimits.version
    var random: [UInt8]
    var keyShare: [UInt8]
    var recordProtocols: [String]
    var applicationProtocols: [String]
    var rpcVersions: RPCProtocolVersions
    var maxFrameSize: UInt32

    func encode() -> [UInt8] {
        var writer = HandshakeWriter()
        writer.u16(version)
        writer.raw(random)
        writer.raw(keyShare)
        writer.list8(recordProtocols)
        writer.list8(applicationProtocols)
        writer.versions(rpcVersions)
        writer.u32(maxFrameSize)
        return HandshakeMessage.frame(.clientInit, body: writer.bytes)
    }

    /// Reads the version first, so an unknown version is reported as such rather than as a
    /// decoding error of a layout we do not know.
    static func decode(_ body: ArraySlice<UInt8>) throws(ALTSHandshakeError) -> ClientInit {
        var reader = HandshakeReader(body, message: "ClientInit")
        let version = try reader.u16("version")
        guard version == HandshakeLimits.version else { throw ALTSHandshakeError(.unsupportedVersion(version)) }
        let message = ClientInit(
            version: version,
            random: Array(try reader.take(HandshakeLimits.randomSize, "random")),
            keyShare: Array(try reader.take(HandshakeLimits.shareSize, "key_share")),
            recordProtocols: try reader.list8("record_protocols"),
            applicationProtocols: try reader.list8("application_protocols"),
            rpcVersions: try reader.versions("rpc_versions"),
            maxFrameSize: try reader.u32("max_frame_size"))
        try reader.expectEnd()
        return message
    }
}

struct ServerInit {
    var version: UInt16 = HandshakeLimits.version
    var random: [UInt8]
    var keyShare: [UInt8]
    var recordProtocol: String
    var applicationProtocol: String
    var rpcVersions: RPCProtocolVersions
    var maxFrameSize: UInt32

    func encode() -> [UInt8] {
        var writer = HandshakeWriter()
        writer.u16(version)
        writer.raw(random)
        writer.raw(keyShare)
        writer.string8(recordProtocol)
        writer.string8(applicationProtocol)
        writer.versions(rpcVersions)
        writer.u32(maxFrameSize)
        return HandshakeMessage.frame(.serverInit, body: writer.bytes)
    }

    static func decode(_ body: ArraySlice<UInt8>) throws(ALTSHandshakeError) -> ServerInit {
        var reader = HandshakeReader(body, message: "ServerInit")
        let version = try reader.u16("version")
        guard version == HandshakeLimits.version else { throw ALTSHandshakeError(.unsupportedVersion(version)) }
        let message = ServerInit(
            version: version,
            random: Array(try reader.take(HandshakeLimits.randomSize, "random")),
            keyShare: Array(try reader.take(HandshakeLimits.shareSize, "key_share")),
            recordProtocol: try reader.string8("record_protocol"),
            applicationProtocol: try reader.string8("application_protocol"),
            rpcVersions: try reader.versions("rpc_versions"),
            maxFrameSize: try reader.u32("max_frame_size"))
        try reader.expectEnd()
        return message
    }
}

/// The plaintext of ServerAuth/ClientAuth, kept as its three encoded parts because the
/// transcript hashes them one at a time (the signature covers the certificates, the finished
/// MAC covers the signature).
struct AuthPayload {
    var certificatesEncoding: [UInt8]
    var signatureEncoding: [UInt8]
    var finished: [UInt8]
    var certificates: [[UInt8]] = []
    var signature: [UInt8] = []

    static func encodeCertificates(_ certificates: [[UInt8]]) -> [UInt8] {
        var writer = HandshakeWriter()
        writer.u8(UInt8(certificates.count))
        for certificate in certificates { writer.bytes16(certificate) }
        return writer.bytes
    }

    static func encodeSignature(_ signature: [UInt8]) -> [UInt8] {
        var writer = HandshakeWriter()
        writer.bytes16(signature)
        return writer.bytes
    }

    var encoded: [UInt8] { certificatesEncoding + signatureEncoding + finished }

    static func decode(_ plaintext: [UInt8], message: String) throws(ALTSHandshakeError) -> AuthPayload {
        var reader = HandshakeReader(plaintext[...], message: message)
        let count = Int(try reader.u8("certificates"))
        guard (1...HandshakeLimits.maxCertificates).contains(count) else {
            throw ALTSHandshakeError(.malformedMessage("\(message) certificates has \(count) entries (1...\(HandshakeLimits.maxCertificates) allowed)"))
        }
        var certificates: [[UInt8]] = []
        for _ in 0..<count {
            certificates.append(try reader.bytes16("certificate", max: HandshakeLimits.maxCertificateSize))
        }
        let certificatesEnd = reader.position
        let signature = try reader.bytes16("signature", max: HandshakeLimits.maxSignatureSize)
        let signatureEnd = reader.position
        let finished = Array(try reader.take(HandshakeLimits.finishedSize, "finished"))
        try reader.expectEnd()
        return AuthPayload(
            certificatesEncoding: Array(plaintext[..<certificatesEnd]),
            signatureEncoding: Array(plaintext[certificatesEnd..<signatureEnd]),
            finished: finished, certificates: certificates, signature: signature)
    }
}
