import ALTSHandshake
import GRPCCore

/// The gRPC status code a failed handshake is reported with in `HandshakerResp.status`.
/// grpcio maps 3 → TSI_INVALID_ARGUMENT, 5 → TSI_NOT_FOUND, 13 → TSI_INTERNAL_ERROR and the
/// rest to TSI_UNKNOWN_ERROR; either way the details reach the application.
enum HandshakerStatusMapping {
    static func code(for error: ALTSHandshakeError) -> Status.Code {
        switch error.kind {
        case .targetMismatch, .peerNotAllowed:
            return .permissionDenied
        case .untrustedIssuer, .certificateExpired, .certificateNotYetValid, .wrongKeyUsage, .badCertificate,
             .badSignature, .badFinished, .decryptionFailed, .keyExchangeFailed:
            return .unauthenticated
        case .incompatibleRPCVersions, .noCommonRecordProtocol, .noCommonApplicationProtocol, .unsupportedVersion:
            return .failedPrecondition
        case .messageTooLarge, .malformedMessage, .unexpectedMessage, .invalidRequest:
            return .invalidArgument
        case .peerAlert:
            return .aborted
        case .localCredentialUnusable, .invalidOptions:
            return .internalError
        case .alreadyFailed, .alreadyFinished:
            return .failedPrecondition
        case .handshakerService:
            return .unavailable
        }
    }
}
