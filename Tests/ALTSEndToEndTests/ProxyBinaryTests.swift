import ALTSIdentity
import ALTSTestSupport
import Foundation
import Testing

/// The `alts-proxy` binary as an operator runs it: YAML files, the CLI, a pair of processes
/// over ALTS (handshakes in process with `--alts-credentials`), and httpbin behind.
@Suite("alts-proxy binaries", .serialized)
struct ProxyBinaryTests {
    @Test("--mode validate: OK for a good config; a bad one exits 1 naming the YAML path and the field")
    func validate() throws {
        let scratch = try makeScratchDirectory(prefix: "proxy-validate")
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let proxy = try BuiltBinary.locate("alts-proxy")
        let good = scratch + "/good.yaml"
        try ProxyConfigs.client(port: 18080, adminPort: 19901, serverPort: 18081, serverAccount: "alts-server@alpha.iam.gserviceaccount.com")
            .write(toFile: good, atomically: true, encoding: .utf8)
        let ok = try Subprocess.run(proxy, ["--mode", "validate", "-c", good])
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(ok.stdout == "configuration '\(good)' OK\n")

        let bad = scratch + "/bad.yaml"
        try ProxyConfigs.client(port: 18080, adminPort: 19901, serverPort: 18081, serverAccount: "alts-server@alpha.iam.gserviceaccount.com")
            .replacingOccurrences(of: "    connect_timeout: 2s\n", with: "    connect_timeout: 2s\n    retry_budget: {}\n")
            .write(toFile: bad, atomically: true, encoding: .utf8)
        let refused = try Subprocess.run(proxy, ["--mode", "validate", "-c", bad])
        #expect(refused.status == 1)
        #expect(refused.stderr.hasPrefix("alts-proxy: error: \(bad): static_resources.clusters[0]"), "\(refused.stderr)")
        #expect(refused.stderr.contains("retry_budget"), "\(refused.stderr)")
    }

    @Test("1 GiB up and 1 GiB down through the pair, with each proxy's peak RSS bounded")
    func gigabyte() async throws {
        let world = try ProxyWorld()
        defer { world.stop() }
        try await world.start()
        // Upload: curl streams 1 GiB of zeros from /dev/zero; httpbin counts and hashes it.
        let upload = try Subprocess.run("/bin/sh", ["-c",
            "head -c 1073741824 /dev/zero | curl -sS --max-time 300 -H 'content-type: application/octet-stream' -T - http://127.0.0.1:\(world.clientPort)/anything",
        ])
        #expect(upload.status == 0, "\(upload.stderr)")
        #expect(upload.stdout.contains("\"body_bytes\" : 1073741824") || upload.stdout.contains("\"body_bytes\": 1073741824"), "\(upload.stdout)")
        #expect(upload.stdout.contains("49bc20df15e412a64472421e13fe86ff1c5165e18b2afccf160d4dc19fe68a14"), "sha256 of 1 GiB of zeros: \(upload.stdout)")
        let download = try Subprocess.run("/usr/bin/curl", ["-sS", "--max-time", "300", "-o", "/dev/null", "-w", "%{http_code} %{size_download}", "http://127.0.0.1:\(world.clientPort)/bytes/1073741824"])
        #expect(download.stdout == "200 1073741824", "\(download.stdout) \(download.stderr)")
        // AddressSanitizer's shadow memory and quarantine of freed blocks are not ours to bound.
        let sanitized = ProcessInfo.processInfo.environment["ALTS_SANITIZER"] != nil
        for (name, process) in [("client proxy", world.clientProxy!), ("server proxy", world.serverProxy!)] where !sanitized {
            let peak = try peakRSSKiB(process.process.processIdentifier)
            #expect(peak < 96 * 1024, "\(name) peak RSS \(peak) KiB after 2 GiB through it")
        }
    }

    @Test("SIGTERM: both proxies exit 0")
    func sigterm() async throws {
        let world = try ProxyWorld()
        defer { world.stop() }
        try await world.start()
        let result = try Subprocess.run("/usr/bin/curl", ["-sS", "-o", "/dev/null", "-w", "%{http_code}", "http://127.0.0.1:\(world.clientPort)/get"])
        #expect(result.stdout == "200")
        #expect(try await world.clientProxy!.stop() == 0)
        #expect(try await world.serverProxy!.stop() == 0)
    }
}

func peakRSSKiB(_ pid: Int32) throws -> Int {
    let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
    guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
          let kib = Int(line.split(separator: " ", omittingEmptySubsequences: true)[1])
    else { throw CocoaError(.fileReadCorruptFile) }
    return kib
}
