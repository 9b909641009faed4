import ALTSTestSupport
import Foundation
import Testing

/// The repository's scripts, found from this file so that the tests run from any directory.
enum VMSetupScripts {
    static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    static func path(_ relative: String) -> String { repositoryRoot + "/" + relative }

    /// The directory of the already-built debug binaries, for SWIFT_ALTS_BIN: the scripts then
    /// skip their own `swift build`, which would contend for the build lock with this test run.
    static func builtBinaries() throws -> String {
        for name in ["altsctl", "client", "handshaker", "alts-proxy", "httpbin"] { _ = try BuiltBinary.locate(name) }
        return URL(fileURLWithPath: try BuiltBinary.locate("server")).deletingLastPathComponent().path
    }

    static func environment(_ overrides: [String: String]) -> [String: String] {
        var environment = ProcessInfo.processInfo.environment
        // A developer's own settings must not leak into the scripts under test.
        for name in [
            "ALTS_CREDENTIALS", "ALTSCTL", "CREDENTIALS", "OUT_DIR", "PROJECTS_DIR", "TTL", "DRY_RUN", "SSH_OPTIONS", "SERVER_SERVICE_ACCOUNT",
            "SERVICE_USER", "DEMO_PROJECT", "PROJECT", "NETNS_PREFIX", "NETNS_STATE_DIR",
        ] {
            environment[name] = nil
        }
        environment.merge(overrides) { $1 }
        return environment
    }
}

/// The labelled output of `bin/demo` and `netns-vms.sh demo`: `--- server (…) … ---` and
/// `--- client (…) … ---` headers, each followed by that side's output.
struct DemoTranscript {
    struct Section {
        let header: String
        let lines: [String]
    }

    let sections: [Section]

    init(_ stdout: String) {
        var sections: [Section] = []
        var header: String?
        var lines: [String] = []
        for line in stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if line.hasPrefix("--- ") && line.hasSuffix(" ---") {
                if let header { sections.append(Section(header: header, lines: lines)) }
                header = line
                lines = []
            } else if header != nil, !line.isEmpty {
                lines.append(line)
            }
        }
        if let header { sections.append(Section(header: header, lines: lines)) }
        self.sections = sections
    }

    var server: Section? { sections.first { $0.header.hasPrefix("--- server (") } }
    var client: Section? { sections.first { $0.header.hasPrefix("--- client (") } }
}

@Suite("bin/demo and the vm-setup scripts")
struct DemoScriptTests {
    @Test("bin/demo: a throwaway project, server on loopback, client; both sides shown, then cleaned up")
    func loopbackDemo() throws {
        let temporary = try makeScratchDirectory(prefix: "swift-alts-demo-test")
        defer { try? FileManager.default.removeItem(atPath: temporary) }
        let project = "demo-test-\(Int.random(in: 100_000...999_999))"
        let server = "alts-server@\(project).iam.gserviceaccount.com"
        let client = "alts-client@\(project).iam.gserviceaccount.com"
        let result = try Subprocess.run(
            VMSetupScripts.path("bin/demo"), [],
            environment: VMSetupScripts.environment([
                "SWIFT_ALTS_BIN": try VMSetupScripts.builtBinaries(), "DEMO_PROJECT": project, "TMPDIR": temporary,
            ]))
        #expect(result.status == 0, "stdout:\n\(result.stdout)\nstderr:\n\(result.stderr)")

        let transcript = DemoTranscript(result.stdout)
        let serverSide = try #require(transcript.server, "no server section in:\n\(result.stdout)")
        let clientSide = try #require(transcript.client, "no client section in:\n\(result.stdout)")
        #expect(serverSide.header.hasPrefix("--- server (\(server)) on 127.0.0.1:"), "\(serverSide.header)")
        #expect(clientSide.header.hasPrefix("--- client (\(client)): client --addr 127.0.0.1:"), "\(clientSide.header)")
        #expect(clientSide.header.contains("--targetServiceAccount \(server)"), "\(clientSide.header)")

        // The client's stderr (two AuthInfo lines), then its stdout, verbatim.
        #expect(clientSide.lines.count == 3, "\(clientSide.lines)")
        #expect(isGoLogLine(clientSide.lines.first ?? "", "AuthInfo PeerServiceAccount: \(server)"), "\(clientSide.lines)")
        #expect(isGoLogLine(clientSide.lines.dropFirst().first ?? "", "AuthInfo LocalServiceAccount: \(client)"), "\(clientSide.lines)")
        #expect(clientSide.lines.last == "UnaryEcho:  hello world")

        #expect(serverSide.lines.contains { isGoLogLine($0, "AuthInfo PeerServiceAccount: \(client)") }, "\(serverSide.lines)")
        #expect(serverSide.lines.contains { isGoLogLine($0, "AuthInfo LocalServiceAccount: \(server)") }, "\(serverSide.lines)")
        #expect(serverSide.lines.last.map { isGoLogLine($0, "server stopped") } == true, "\(serverSide.lines)")

        #expect(try FileManager.default.contentsOfDirectory(atPath: temporary) == [], "bin/demo left its temporary directory behind")
        let port = try #require(serverSide.header.split(separator: ":").last.flatMap { Int($0.prefix { $0.isNumber }) })
        #expect(!acceptsConnections(port: port), "something still listens on 127.0.0.1:\(port) after bin/demo")
    }

    private func acceptsConnections(port: Int) -> Bool {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        let status = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        return status == 0
    }

    @Test("bin/demo exits with the client's failure and still cleans up")
    func loopbackDemoFailure() throws {
        let temporary = try makeScratchDirectory(prefix: "swift-alts-demo-test")
        defer { try? FileManager.default.removeItem(atPath: temporary) }
        let result = try Subprocess.run(
            VMSetupScripts.path("bin/demo"), ["--no-such-client-option"],
            environment: VMSetupScripts.environment(["SWIFT_ALTS_BIN": try VMSetupScripts.builtBinaries(), "TMPDIR": temporary]))
        #expect(result.status != 0)
        #expect(result.stderr.contains("demo: client failed"), "\(result.stderr)")
        #expect(DemoTranscript(result.stdout).server?.lines.last.map { isGoLogLine($0, "server stopped") } == true, "\(result.stdout)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: temporary) == [], "bin/demo left its temporary directory behind")
    }

    @Test("create-service-accounts.sh: project once, accounts in OUT_DIR/NAME, export lines on stdout")
    func createServiceAccounts() throws {
        let directory = try makeScratchDirectory(prefix: "swift-alts-accounts-test")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let environment = VMSetupScripts.environment([
            "SWIFT_ALTS_BIN": try VMSetupScripts.builtBinaries(),
            "PROJECTS_DIR": directory + "/projects", "OUT_DIR": directory + "/credentials",
        ])
        let script = VMSetupScripts.path("vm-setup/create-service-accounts.sh")
        let first = try Subprocess.run(script, ["acme-prod"], environment: environment)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdoutLines == [
            "export PROJECT=acme-prod",
            "export SERVER_SERVICE_ACCOUNT=alts-server@acme-prod.iam.gserviceaccount.com",
            "export CLIENT_SERVICE_ACCOUNT=alts-client@acme-prod.iam.gserviceaccount.com",
        ])
        for name in ["alts-server", "alts-client"] {
            let key = "\(directory)/credentials/\(name)/service-account.key"
            let mode = try FileManager.default.attributesOfItem(atPath: key)[.posixPermissions] as? Int
            #expect(mode == 0o600, "\(key)")
            #expect(FileManager.default.fileExists(atPath: "\(directory)/credentials/\(name)/trust-bundle/acme-prod.pem"))
        }

        // Like gcloud, a second call reuses the project rather than failing or replacing its CA.
        let again = try Subprocess.run(script, ["acme-prod", "billing"], environment: environment)
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.stdoutLines == ["export PROJECT=acme-prod", "export BILLING_SERVICE_ACCOUNT=billing@acme-prod.iam.gserviceaccount.com"])
        #expect(again.stderr.contains("project acme-prod already exists"), "\(again.stderr)")
    }

    @Test("deploy.sh DRY_RUN=1 HOST server: scp, then root installs the binary, a 0600 key and the systemd unit")
    func deployServerDryRun() throws {
        let fixture = try HelloWorldFixture()
        let binaries = try VMSetupScripts.builtBinaries()
        let result = try Subprocess.run(
            VMSetupScripts.path("vm-setup/deploy.sh"), ["admin@alts-server", "server"],
            environment: VMSetupScripts.environment(["DRY_RUN": "1", "SWIFT_ALTS_BIN": binaries, "CREDENTIALS": fixture.serverCredentials]))
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdoutLines
        let credentials = fixture.serverCredentials
        let unit = VMSetupScripts.path("vm-setup/systemd/alts-echo-server.service")
        #expect(lines.first == "+ ssh admin@alts-server 'rm -rf .swift-alts-deploy && mkdir -m 0700 .swift-alts-deploy'", "\(lines)")
        #expect(lines.contains(
            "+ scp -q -r \(binaries)/server \(credentials)/service-account.pem \(credentials)/service-account.key \(credentials)/trust-bundle \(unit) admin@alts-server:.swift-alts-deploy/"),
            "\(lines)")
        #expect(lines.contains(#"+ ssh admin@alts-server 'sudo bash -s -- "$HOME/.swift-alts-deploy"' <<'REMOTE'"#), "\(lines)")
        for expected in [
            #"chmod 600 "$staging/service-account.key""#,
            #"install -m 0755 "$staging/server" /usr/local/bin/server"#,
            "install -d -m 0700 -o alts -g alts /etc/alts /etc/alts/trust-bundle",
            #"install -m 0600 -o alts -g alts "$staging/service-account.key" /etc/alts/service-account.key"#,
            #"install -m 0644 -o alts -g alts "$staging"/trust-bundle/*.pem /etc/alts/trust-bundle/"#,
            #"install -m 0644 "$staging/alts-echo-server.service" /etc/systemd/system/alts-echo-server.service"#,
            "systemctl daemon-reload",
            "systemctl enable alts-echo-server.service",
            "systemctl restart alts-echo-server.service",
        ] {
            #expect(lines.contains(expected), "missing: \(expected)\nin:\n\(result.stdout)")
        }
        #expect(lines.last == "REMOTE")
    }

    @Test("deploy.sh DRY_RUN=1 HOST client: the client binary and its 0600 key, no systemd unit")
    func deployClientDryRun() throws {
        let fixture = try HelloWorldFixture()
        let binaries = try VMSetupScripts.builtBinaries()
        let result = try Subprocess.run(
            VMSetupScripts.path("vm-setup/deploy.sh"), ["alts-client", "client"],
            environment: VMSetupScripts.environment([
                "DRY_RUN": "1", "SWIFT_ALTS_BIN": binaries, "CREDENTIALS": fixture.clientCredentials,
                "SSH_OPTIONS": "-o Port=2222", "SERVER_SERVICE_ACCOUNT": fixture.serverAccount,
            ]))
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdoutLines
        let credentials = fixture.clientCredentials
        #expect(lines.contains(
            "+ scp -o Port=2222 -q -r \(binaries)/client \(credentials)/service-account.pem \(credentials)/service-account.key \(credentials)/trust-bundle alts-client:.swift-alts-deploy/"),
            "\(lines)")
        #expect(lines.contains(#"chmod 600 "$staging/service-account.key""#))
        #expect(lines.contains(#"install -m 0755 "$staging/client" /usr/local/bin/client"#))
        #expect(lines.contains(#"install -m 0600 -o alts -g alts "$staging/service-account.key" /etc/alts/service-account.key"#))
        #expect(!result.stdout.contains("systemctl"), "\(result.stdout)")
        #expect(result.stderr.contains("sudo -u alts client --addr SERVER_VM:50051 --targetServiceAccount \(fixture.serverAccount)"), "\(result.stderr)")
    }

    @Test("deploy.sh refuses an unknown role and missing credentials, in one line")
    func deployRefuses() throws {
        let script = VMSetupScripts.path("vm-setup/deploy.sh")
        let environment = VMSetupScripts.environment(["DRY_RUN": "1", "SWIFT_ALTS_BIN": try VMSetupScripts.builtBinaries()])
        let role = try Subprocess.run(script, ["vm", "database"], environment: environment)
        #expect(role.status == 1)
        #expect(role.stderr == "deploy.sh: error: ROLE must be server or client, not 'database'\n")
        var missing = environment
        missing["CREDENTIALS"] = "/nonexistent/swift-alts"
        let credentials = try Subprocess.run(script, ["vm", "server"], environment: missing)
        #expect(credentials.status == 1)
        #expect(credentials.stderr.hasPrefix("deploy.sh: error: no credentials in /nonexistent/swift-alts"), "\(credentials.stderr)")
        #expect(credentials.stdout == "")
    }

    @Test("the server's systemd unit: hardened, reloads on SIGHUP, restarts on failure")
    func systemdUnit() throws {
        let unit = try String(contentsOfFile: VMSetupScripts.path("vm-setup/systemd/alts-echo-server.service"), encoding: .utf8)
        let settings = Set(unit.split(separator: "\n").map(String.init))
        for expected in [
            "ExecStart=/usr/local/bin/server --port 50051 --credentials /etc/alts",
            "ExecReload=/bin/kill -HUP $MAINPID",
            "Restart=on-failure",
            "User=alts",
            "NoNewPrivileges=yes",
            "ProtectSystem=strict",
            "ReadOnlyPaths=/etc/alts",
            "CapabilityBoundingSet=",
            "WantedBy=multi-user.target",
        ] {
            #expect(settings.contains(expected), "missing \(expected)")
        }
    }
}
