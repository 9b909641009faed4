#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Seed corpora are written by the targets themselves, from real protocol runs, so they stay
/// in step with the code: `ALTS_FUZZ_WRITE_SEEDS=DIR TARGET` writes the target's seeds to DIR
/// and exits before fuzzing (fuzz/run.sh seeds does this for every target).
public enum FuzzSeeds {
    public static func writeIfRequested(_ makeSeeds: () throws -> [(name: String, bytes: [UInt8])]) {
        guard let directory = ProcessInfo.processInfo.environment["ALTS_FUZZ_WRITE_SEEDS"] else { return }
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let seeds = try makeSeeds()
            for seed in seeds {
                try Data(seed.bytes).write(to: URL(fileURLWithPath: directory + "/" + seed.name))
            }
            print("wrote \(seeds.count) seeds to \(directory)")
            exit(0)
        } catch {
            print("writing seeds failed: \(error)")
            exit(1)
        }
    }
}

/// A property the target checks was broken: stop the fuzzer with a message it records next to
/// the crashing input.
public func fuzzInvariant(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String) {
    if !condition() {
        fatalError("fuzz invariant broken: \(message())")
    }
}
