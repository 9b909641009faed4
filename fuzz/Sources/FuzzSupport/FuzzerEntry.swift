import CFuzzerDriver

/// What each target's entry point does: hands libFuzzer's driver the target's test function.
/// The targets also export `LLVMFuzzerInitialize` (their seeds and set-up, which the driver
/// calls first) and `LLVMFuzzerTestOneInput`, so that whichever `main` the link ends up with,
/// theirs or libFuzzer's, runs the same thing.
public func runFuzzer(
    argc: CInt, argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?,
    test: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt {
    var argc = argc
    var argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv, test)
}
