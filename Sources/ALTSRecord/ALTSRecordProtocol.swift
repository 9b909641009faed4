/// The record protocols a handshake can negotiate, by their wire names (FACTS §3.3).
public enum ALTSRecordProtocol: String, Sendable, CaseIterable, CustomStringConvertible {
    /// AES-128-GCM with one fixed 16-byte key. No gRPC peer requests it; kept for vectors.
    case aes128GCM = "ALTSRP_GCM_AES128"
    /// AES-128-GCM whose key is re-derived every 2^16 records from a 44-byte secret.
    /// The only protocol gRPC C-core, grpc-go, grpc-java and Envoy request.
    case aes128GCMRekey = "ALTSRP_GCM_AES128_REKEY"

    /// Bytes of key material the protocol takes from the front of the handshake's key data.
    public var keyLength: Int {
        switch self {
        case .aes128GCM: return 16
        case .aes128GCMRekey: return 44
        }
    }

    /// How many low counter bytes may change before the counter is exhausted.
    public var counterOverflowLength: Int {
        switch self {
        case .aes128GCM: return 5
        case .aes128GCMRekey: return 8
        }
    }

    public var description: String { rawValue }

    /// Parses a negotiated name, failing with an error that names the unknown protocol.
    public init(name: String) throws(ALTSRecordError) {
        guard let known = ALTSRecordProtocol(rawValue: name) else {
            throw ALTSRecordError(.unsupportedRecordProtocol(name))
        }
        self = known
    }
}

/// Which end of the connection a protector serves; it decides the counters' direction byte.
public enum ALTSRole: Sendable, Hashable, CustomStringConvertible {
    case client
    case server

    public var description: String { self == .client ? "client" : "server" }
}
