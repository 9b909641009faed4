import ALTSGRPC
import ALTSHandshake
import ALTSNIO
import Foundation
import GRPCCore
import NIOCore
import NIOPosix

/// Turns whatever ended a command into the one line an operator needs.
public enum CommandFailure {
    public static func describe(_ error: any Error, address: String? = nil) -> String {
        switch error {
        case let error as ALTSHandshakeError:
            return "ALTS handshake failed: \(error)"
        case let error as ALTSChannelError:
            return "\(error)"
        case let error as NIOConnectionError:
            let firstFailure = error.connectionErrors.first?.error
            if let io = firstFailure as? IOError, io.errnoCode == ECONNREFUSED {
                return "connection refused: nothing is listening on \(address ?? "\(error.host):\(error.port)")"
            }
            if error.dnsAError != nil || error.dnsAAAAError != nil, error.connectionErrors.isEmpty {
                return "cannot resolve host '\(error.host)'"
            }
            if let firstFailure {
                return "cannot connect to \(address ?? "\(error.host):\(error.port)"): \(firstFailure)"
            }
            return "cannot connect to \(address ?? "\(error.host):\(error.port)")"
        case let error as ChannelError:
            if case .connectTimeout(let amount) = error {
                return "timed out connecting to \(address ?? "the server") after \(amount.nanoseconds / 1_000_000_000)s"
            }
            return "connection error: \(error)"
        case let error as RPCError:
            return "RPC failed: \(error.code): \(error.message)"
        case let error as ALTSAddressError:
            return "\(error)"
        default:
            return "\(error)"
        }
    }
}
