import ALTSNIO
import GRPCNIOTransportHTTP2Posix
import NIOCore

extension HandshakerServiceLimits {
    /// The gRPC server transport configuration that serves the service within these limits:
    /// gRPC's defaults plus the deadline for the HTTP/2 client preface.
    public var transportConfig: HTTP2ServerTransport.Posix.Config {
        var config = HTTP2ServerTransport.Posix.Config.defaults
        let timeout = TimeAmount(prefaceTimeout)
        config.channelDebuggingCallbacks.onAcceptTCPConnection = { channel in
            channel.eventLoop.makeCompletedFuture {
                // Nearest the socket, so it counts the bytes before HTTP/2 sees them.
                try channel.pipeline.syncOperations.addHandler(HTTP2PrefaceDeadlineHandler(timeout: timeout, start: .whenActive), position: .first)
            }
        }
        return config
    }
}
