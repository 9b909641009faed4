import Foundation
import Yams

extension ProxyBootstrap {
    /// Reads an Envoy v3 bootstrap file. Every problem is a `ProxyConfigError` whose path
    /// names where in the YAML it is; a field alts-proxy does not implement is an error, never
    /// ignored.
    public static func load(contentsOfFile path: String) throws(ProxyConfigError) -> ProxyBootstrap {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ProxyConfigError(path: "", message: "cannot read the configuration file: \(Self.readFailure(error))")
        }
        return try load(yaml: text)
    }

    public static func load(yaml text: String) throws(ProxyConfigError) -> ProxyBootstrap {
        let root: Yams.Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch {
            throw ProxyConfigError(path: "", message: "not valid YAML: \(error)")
        }
        guard let root else {
            throw ProxyConfigError(path: "", message: "the configuration is empty")
        }
        return try ConfigNode(root, path: "").bootstrap()
    }

    private static func readFailure(_ error: any Error) -> String {
        let nsError = error as NSError
        if let underlying = nsError.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain,
           let code = POSIXErrorCode(rawValue: Int32(underlying.code)) {
            return String(cString: strerror(code.rawValue))
        }
        if nsError.domain == NSCocoaErrorDomain, nsError.code == NSFileReadNoSuchFileError { return "no such file" }
        if nsError.domain == NSCocoaErrorDomain, nsError.code == NSFileReadInapplicableStringEncodingError { return "not UTF-8 text" }
        return nsError.localizedDescription
    }
}

extension ConfigNode {
    func bootstrap() throws(ProxyConfigError) -> ProxyBootstrap {
        let top = try mapping(supported: ["node", "admin", "static_resources"])
        if let node = top["node"] {
            // Envoy's node identity only labels what it reports to a management server,
            // which alts-proxy has not: checked for shape, nothing to honour.
            let fields = try node.mapping(supported: ["id", "cluster"])
            _ = try fields["id"]?.string()
            _ = try fields["cluster"]?.string()
        }
        var admin: SocketAddressSpec?
        if let node = top["admin"] { admin = try node.admin() }
        let resources = try top.required("static_resources").mapping(supported: ["listeners", "clusters"])

        var clusters: [Cluster] = []
        if let list = resources["clusters"] {
            for element in try list.sequence() {
                let cluster = try element.cluster()
                if clusters.contains(where: { $0.name == cluster.name }) {
                    throw element.error("duplicate cluster name '\(cluster.name)'")
                }
                clusters.append(cluster)
            }
        }
        var listeners: [Listener] = []
        guard let listenerList = resources["listeners"] else {
            throw ProxyConfigError(path: resources.owner.path(ofKey: "listeners"), message: "missing required field 'listeners' (alts-proxy serves static listeners only)")
        }
        let listenerNodes = try listenerList.sequence()
        guard !listenerNodes.isEmpty else { throw listenerList.error("at least one listener is needed") }
        for (index, element) in listenerNodes.enumerated() {
            let listener = try element.listener(index: index, clusters: clusters)
            if listeners.contains(where: { $0.name == listener.name }) {
                throw element.error("duplicate listener name '\(listener.name)'")
            }
            if listener.address.port != 0, let other = listeners.first(where: { $0.address == listener.address }) {
                throw element.error("listener '\(listener.name)' binds \(listener.address), as '\(other.name)' does")
            }
            listeners.append(listener)
        }
        return ProxyBootstrap(admin: admin, listeners: listeners, clusters: clusters)
    }

    func admin() throws(ProxyConfigError) -> SocketAddressSpec {
        let mapping = try self.mapping(supported: ["address", "access_log_path"])
        if let logPath = mapping["access_log_path"] {
            let value = try logPath.string()
            guard value == "/dev/null" else {
                throw logPath.error("admin access logging is not implemented; set access_log_path to /dev/null or remove it")
            }
        }
        return try mapping.required("address").address(.bind)
    }
}
