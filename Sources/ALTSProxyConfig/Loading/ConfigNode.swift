import Yams

/// A YAML node and where it sits in the document (`static_resources.clusters[0].name`), so
/// that every error names its path. The loader reads the document only through this type.
struct ConfigNode {
    let node: Yams.Node
    let path: String

    init(_ node: Yams.Node, path: String) {
        self.node = node
        self.path = path
    }

    func error(_ message: String) -> ProxyConfigError {
        ProxyConfigError(path: path, message: message)
    }

    /// The path of `key` inside this mapping. Keys that are not plain identifiers (the
    /// extension names of typed_extension_protocol_options) are quoted.
    func path(ofKey key: String) -> String {
        let plain = !key.isEmpty && key.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "@" || $0 == "-" }
        let component = plain ? key : "[\"\(key)\"]"
        if path.isEmpty { return component }
        return plain ? "\(path).\(component)" : "\(path)\(component)"
    }

    /// True for `~`, `null`, an empty value: proto3 JSON, and so Envoy, reads those as unset.
    var isNull: Bool {
        if case .scalar(let scalar) = node, scalar.style == .plain || scalar.style == .any {
            return PlainScalar(scalar.string) == .null
        }
        return false
    }

    /// What kind of value this is, for "expected a string, got a list" messages.
    var kindDescription: String {
        switch node {
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        case .scalar(let scalar):
            guard scalar.style == .plain || scalar.style == .any else { return "the string \"\(scalar.string)\"" }
            switch PlainScalar(scalar.string) {
            case .null: return "null"
            case .bool: return "the boolean \(scalar.string)"
            case .number: return "the number \(scalar.string)"
            case .string: return "the string \"\(scalar.string)\""
            }
        }
    }

    // MARK: Structure

    /// This node as a mapping whose keys are all in `supported`. The first other key is an
    /// error naming it and listing what is supported: a field alts-proxy does not implement
    /// is never ignored.
    func mapping(supported: [String]) throws(ProxyConfigError) -> ConfigMapping {
        guard case .mapping(let mapping) = node else {
            throw error("expected a mapping, got \(kindDescription)")
        }
        var entries: [(key: String, value: ConfigNode)] = []
        for (keyNode, value) in mapping {
            guard case .scalar(let keyScalar) = keyNode else {
                throw error("mapping keys must be strings")
            }
            let key = keyScalar.string
            let child = ConfigNode(value, path: path(ofKey: key))
            guard supported.contains(key) else {
                throw ProxyConfigError(path: child.path, message: Self.unsupportedFieldMessage(key, supported: supported))
            }
            entries.append((key, child))
        }
        return ConfigMapping(owner: self, entries: entries)
    }

    static func unsupportedFieldMessage(_ key: String, supported: [String]) -> String {
        if key == "<<" {
            return "YAML merge keys ('<<') are not supported (Envoy rejects them too); repeat the fields or use an alias for the whole value"
        }
        let list = supported.isEmpty ? "no fields here" : supported.joined(separator: ", ")
        var message = "unsupported field '\(key)' (alts-proxy supports: \(list))"
        if key == "config" && supported.contains("typed_config") {
            message += "; 'config' is Envoy's v2 API, use typed_config with \"@type\""
        }
        return message
    }

    /// The elements of a list, each with its `[i]` path.
    func sequence() throws(ProxyConfigError) -> [ConfigNode] {
        guard case .sequence(let sequence) = node else {
            throw error("expected a list, got \(kindDescription)")
        }
        return sequence.enumerated().map { index, element in ConfigNode(element, path: "\(path)[\(index)]") }
    }

    // MARK: Scalars

    /// A string field. As in Envoy (whose YAML becomes JSON before it becomes a proto), an
    /// unquoted number or boolean is not a string: `stat_prefix: 5` must be quoted.
    func string() throws(ProxyConfigError) -> String {
        guard case .scalar(let scalar) = node else {
            throw error("expected a string, got \(kindDescription)")
        }
        if scalar.style == .plain || scalar.style == .any {
            switch PlainScalar(scalar.string) {
            case .string: break
            case .number, .bool:
                throw error("expected a string, got \(kindDescription) (quote it: \"\(scalar.string)\")")
            case .null:
                throw error("expected a string, got null")
            }
        }
        return scalar.string
    }

    func nonEmptyString() throws(ProxyConfigError) -> String {
        let value = try string()
        guard !value.isEmpty else { throw error("must not be empty") }
        return value
    }

    func stringList() throws(ProxyConfigError) -> [String] {
        var values: [String] = []
        for element in try sequence() {
            values.append(try element.string())
        }
        return values
    }

    /// An integer: a plain YAML number, or a quoted one as proto3 JSON allows (`"18080"`).
    func integer() throws(ProxyConfigError) -> Int {
        guard case .scalar(let scalar) = node else {
            throw error("expected an integer, got \(kindDescription)")
        }
        let text = scalar.string
        let digits = text.hasPrefix("-") ? text.dropFirst() : Substring(text)
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let value = Int(text) else {
            throw error("expected an integer, got \(kindDescription)")
        }
        return value
    }

    func bool() throws(ProxyConfigError) -> Bool {
        guard case .scalar(let scalar) = node, scalar.style == .plain || scalar.style == .any,
              case .bool(let value) = PlainScalar(scalar.string)
        else {
            throw error("expected true or false, got \(kindDescription)")
        }
        return value
    }

    /// One of a proto enum's names that alts-proxy implements; any other name is an error
    /// listing them.
    func enumeration<Value: RawRepresentable>(_ type: Value.Type, field: String, supported: [Value]) throws(ProxyConfigError) -> Value where Value.RawValue == String {
        let name = try string()
        guard let value = supported.first(where: { $0.rawValue == name }) else {
            let list = supported.map(\.rawValue).joined(separator: ", ")
            throw error("unsupported \(field) '\(name)' (alts-proxy supports: \(list))")
        }
        return value
    }
}

/// A mapping whose keys have been checked against what alts-proxy supports.
struct ConfigMapping {
    let owner: ConfigNode
    let entries: [(key: String, value: ConfigNode)]

    var path: String { owner.path }

    /// The value of `key`, or nil when it is absent or null.
    subscript(key: String) -> ConfigNode? {
        guard let entry = entries.first(where: { $0.key == key }), !entry.value.isNull else { return nil }
        return entry.value
    }

    func contains(_ key: String) -> Bool { self[key] != nil }

    func required(_ key: String) throws(ProxyConfigError) -> ConfigNode {
        guard let value = self[key] else {
            throw ProxyConfigError(path: owner.path(ofKey: key), message: "missing required field '\(key)'")
        }
        return value
    }

    func error(_ message: String) -> ProxyConfigError { owner.error(message) }
}

/// How Envoy reads an unquoted YAML scalar (yaml-cpp, then JSON): null, a boolean, a number,
/// or else a string.
enum PlainScalar: Equatable {
    case null
    case bool(Bool)
    case number
    case string

    init(_ text: String) {
        switch text {
        case "", "~", "null", "Null", "NULL":
            self = .null
        case "true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON", "y", "Y":
            self = .bool(true)
        case "false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF", "n", "N":
            self = .bool(false)
        default:
            self = Self.looksNumeric(text) ? .number : .string
        }
    }

    private static func looksNumeric(_ text: String) -> Bool {
        if Int(text) != nil { return true }
        if text.hasPrefix("0x") || text.hasPrefix("0o") { return Int(text.dropFirst(2), radix: text.hasPrefix("0x") ? 16 : 8) != nil }
        let lowered = text.lowercased()
        if [".inf", "+.inf", "-.inf", ".nan"].contains(lowered) { return true }
        guard let first = text.first, first.isNumber || first == "-" || first == "+" || first == "." else { return false }
        return Double(text) != nil
    }
}
