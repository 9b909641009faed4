import ALTSProxyConfig
import FuzzSupport

// The Envoy v3 bootstrap loader: YAML from an operator, or from whoever could write the file.
// Input: the YAML text (invalid UTF-8 is replaced, as reading the file does). A config that
// loads must load again to the same value and dump to JSON (the admin /config_dump).

@_cdecl("LLVMFuzzerInitialize")
public func fuzzerInitialize(_ argc: UnsafeMutableRawPointer?, _ argv: UnsafeMutableRawPointer?) -> CInt {
    FuzzSeeds.writeIfRequested(yamlSeeds)
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    fuzzEnvoyYAML(data.map(UnsafeRawPointer.init) ?? UnsafeRawPointer(bitPattern: 1)!, count)
}

@_cdecl("FuzzEnvoyYAML_main")
public func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc: argc, argv: argv) { fuzzerTestOneInput($0, $1) }
}

private func fuzzEnvoyYAML(_ data: UnsafeRawPointer, _ count: Int) -> CInt {
    let text = String(decoding: UnsafeRawBufferPointer(start: data, count: count), as: UTF8.self)
    guard let bootstrap = try? ProxyBootstrap.load(yaml: text) else { return 0 }
    let again = try? ProxyBootstrap.load(yaml: text)
    fuzzInvariant(again == bootstrap, "loading the same YAML twice gave different configs")
    fuzzInvariant(!bootstrap.configDumpJSON().isEmpty, "an empty config dump")
    return 0
}

/// The envoy/ configs are added by fuzz/run.sh seeds.
private func yamlSeeds() -> [(name: String, bytes: [UInt8])] {
    [
        ("proxy-features.yaml", Array(proxyFuzzBootstrapYAML.utf8)),
        ("empty.yaml", []),
        ("anchors.yaml", Array("a: &x [1, 2]\nb: *x\nstatic_resources: { listeners: [], clusters: [] }\n".utf8)),
    ]
}
