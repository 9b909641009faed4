import ALTSCommandSupport
import ALTSGRPC
import ALTSNIO
import GRPCCore

/// The two lines the seed's Go server logs for every RPC, and our check that the RPC arrived
/// over ALTS at all.
enum AuthInfoLog {
    static func logAndRequire(_ context: ServerContext) throws -> ALTSAuthInfo {
        guard let info = context.altsAuthInfo else {
            throw RPCError(code: .unauthenticated, message: "RPC did not arrive over an ALTS connection")
        }
        GoLog.print("AuthInfo PeerServiceAccount: \(info.peerServiceAccount)")
        GoLog.print("AuthInfo LocalServiceAccount: \(info.localServiceAccount)")
        return info
    }
}
