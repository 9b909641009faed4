import ALTSTestSupport
import Foundation
import Testing

/// Whether this machine can host the two network-namespace "VMs": root and a working
/// `ip netns`. Outside CI a machine without them skips the test; in CI (which runs as root)
/// the test runs, and fails if they are missing rather than passing silently.
enum NetnsHost {
    static let ip: String? = ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"].first {
        FileManager.default.isExecutableFile(atPath: $0)
    }

    static let problem: String? = {
        guard getuid() == 0 else { return "the netns demo needs root (uid is \(getuid()))" }
        guard let ip else { return "the netns demo needs iproute2's ip; apt-get install iproute2" }
        guard let listed = try? Subprocess.run(ip, ["netns", "list"]), listed.status == 0 else {
            return "'ip netns list' fails here: no network namespace support"
        }
        return nil
    }()

    static var inCI: Bool { !(ProcessInfo.processInfo.environment["CI"] ?? "").isEmpty }
    static var shouldRun: Bool { problem == nil || inCI }
}

@Suite("vm-setup/netns-vms.sh: two VMs as network namespaces")
struct NetnsDemoTests {
    @Test(
        "demo: client in alts-client calls alts-server by name over the veth pair; down leaves nothing",
        .enabled(if: NetnsHost.shouldRun, "needs root and ip netns (required when CI is set)"))
    func twoVMDemo() throws {
        if let problem = NetnsHost.problem {
            Issue.record("CI is set but \(problem)")
            return
        }
        let ip = try #require(NetnsHost.ip)
        // A pair of its own, so that it runs beside a user's `netns-vms.sh demo` or another test run.
        let prefix = "t\(Int.random(in: 100_000...999_999))-"
        let project = "netns-test-\(Int.random(in: 100_000...999_999))"
        let serverNamespace = prefix + "alts-server"
        let clientNamespace = prefix + "alts-client"
        let server = "alts-server@\(project).iam.gserviceaccount.com"
        let client = "alts-client@\(project).iam.gserviceaccount.com"
        let stateDirectory = "/var/lib/swift-alts-netns/\(prefix)alts"
        let script = VMSetupScripts.path("vm-setup/netns-vms.sh")
        let environment = VMSetupScripts.environment([
            "NETNS_PREFIX": prefix, "PROJECT": project, "SWIFT_ALTS_BIN": try VMSetupScripts.builtBinaries(),
        ])
        defer { _ = try? Subprocess.run(script, ["down"], environment: environment) }

        // `demo` runs `up` itself when the pair does not exist yet.
        let result = try Subprocess.run(script, ["demo"], environment: environment)
        #expect(result.status == 0, "stdout:\n\(result.stdout)\nstderr:\n\(result.stderr)")

        let transcript = DemoTranscript(result.stdout)
        let serverSide = try #require(transcript.server, "no server section in:\n\(result.stdout)\nstderr:\n\(result.stderr)")
        let clientSide = try #require(transcript.client, "no client section in:\n\(result.stdout)\nstderr:\n\(result.stderr)")
        #expect(serverSide.header == "--- server (\(server)) in netns \(serverNamespace) at 10.250.0.1:50051 ---")
        #expect(clientSide.header == "--- client (\(client)) in netns \(clientNamespace): client --addr alts-server:50051 --targetServiceAccount \(server) ---")

        // Each side found its identity in its own /etc/alts, and the client reached the server
        // by the name in its own /etc/hosts.
        #expect(clientSide.lines.count == 3, "\(clientSide.lines)")
        #expect(isGoLogLine(clientSide.lines.first ?? "", "AuthInfo PeerServiceAccount: \(server)"), "\(clientSide.lines)")
        #expect(isGoLogLine(clientSide.lines.dropFirst().first ?? "", "AuthInfo LocalServiceAccount: \(client)"), "\(clientSide.lines)")
        #expect(clientSide.lines.last == "UnaryEcho:  hello world")

        #expect(serverSide.lines.first.map { isGoLogLine($0, "listening on 0.0.0.0:50051 as \(server)") } == true, "\(serverSide.lines)")
        #expect(serverSide.lines.contains { isGoLogLine($0, "AuthInfo PeerServiceAccount: \(client)") }, "\(serverSide.lines)")
        #expect(serverSide.lines.contains { isGoLogLine($0, "AuthInfo LocalServiceAccount: \(server)") }, "\(serverSide.lines)")
        #expect(serverSide.lines.last.map { isGoLogLine($0, "server stopped") } == true, "\(serverSide.lines)")

        // What `up` left for the pair while it is up: a veth end in each namespace, the
        // per-namespace /etc files, the key readable by root only.
        for namespace in [serverNamespace, clientNamespace] {
            let links = try Subprocess.run(ip, ["-n", namespace, "-o", "link", "show", "type", "veth"])
            #expect(links.stdout.contains("eth0"), "no veth in \(namespace): \(links.stdout) \(links.stderr)")
            #expect(FileManager.default.fileExists(atPath: "/etc/netns/\(namespace)/hosts"))
            let key = "/etc/netns/\(namespace)/alts/service-account.key"
            #expect(try FileManager.default.attributesOfItem(atPath: key)[.posixPermissions] as? Int == 0o600)
        }

        let down = try Subprocess.run(script, ["down"], environment: environment)
        #expect(down.status == 0, "\(down.stderr)")
        let namespaces = try Subprocess.run(ip, ["netns", "list"])
        #expect(!namespaces.stdout.contains(prefix), "namespaces left: \(namespaces.stdout)")
        let hostVeths = try Subprocess.run(ip, ["-o", "link", "show", "type", "veth"])
        #expect(!hostVeths.stdout.contains(prefix), "veth left on the host: \(hostVeths.stdout)")
        for leftover in ["/etc/netns/\(serverNamespace)", "/etc/netns/\(clientNamespace)", stateDirectory] {
            #expect(!FileManager.default.fileExists(atPath: leftover), "\(leftover) is left")
        }

        let again = try Subprocess.run(script, ["down"], environment: environment)
        #expect(again.status == 0, "down is not idempotent: \(again.stderr)")
    }

    @Test(
        "http-demo: curl in alts-client → alts-proxy → ALTS over the veth → alts-proxy → httpbin, which sees the client's account",
        .enabled(if: NetnsHost.shouldRun, "needs root and ip netns (required when CI is set)"))
    func httpDemo() throws {
        if let problem = NetnsHost.problem {
            Issue.record("CI is set but \(problem)")
            return
        }
        let prefix = "h\(Int.random(in: 100_000...999_999))-"
        let project = "netns-http-\(Int.random(in: 100_000...999_999))"
        let client = "alts-client@\(project).iam.gserviceaccount.com"
        let script = VMSetupScripts.path("vm-setup/netns-vms.sh")
        let environment = VMSetupScripts.environment([
            "NETNS_PREFIX": prefix, "PROJECT": project, "SWIFT_ALTS_BIN": try VMSetupScripts.builtBinaries(),
        ])
        defer { _ = try? Subprocess.run(script, ["down"], environment: environment) }

        let result = try Subprocess.run(script, ["http-demo"], environment: environment)
        #expect(result.status == 0, "stdout:\n\(result.stdout)\nstderr:\n\(result.stderr)")
        let sections = result.stdout.components(separatedBy: "--- curl http://localhost:18080/get in netns \(prefix)alts-client ---\n")
        #expect(sections.count == 2, "no curl section in:\n\(result.stdout)")
        let curl = sections.last ?? ""
        #expect(curl.hasPrefix("HTTP/1.1 200 OK\r\n"), "\(curl)")
        #expect(curl.contains("server: alts-proxy\r\n"), "\(curl)")
        // The upstream saw the identity the server proxy proved, and the client's hop through
        // the veth (10.250.0.2) in the forwarding chain.
        #expect(curl.contains("\"X-Alts-Peer-Service-Account\" : \"\(client)\""), "\(curl)")
        #expect(curl.contains("\"X-Forwarded-For\" : \"127.0.0.1, 10.250.0.2\""), "\(curl)")
        #expect(result.stdout.contains("listener alts_in listening on 0.0.0.0:18081"), "\(result.stdout)")
        #expect(result.stderr.contains("httpbin in \(prefix)alts-server saw the request from \(client)"), "\(result.stderr)")
    }
}
