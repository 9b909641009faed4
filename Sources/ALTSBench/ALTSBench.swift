import ArgumentParser

@main
struct ALTSBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "alts-bench",
        abstract: "Micro-benchmarks for swift-alts (run them through the scripts in bench/).",
        subcommands: [RecordBenchmark.self, HandshakerServiceBenchmark.self, HandshakeInProcessBenchmark.self, HandshakeServerCommand.self, HandshakeClientCommand.self, HandshakeMakeCredentials.self, GRPCServerCommand.self, GRPCClientCommand.self, GRPCLoadClientCommand.self]
    )
}

