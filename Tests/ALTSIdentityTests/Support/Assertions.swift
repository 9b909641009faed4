import ALTSIdentity
import XCTest

/// Asserts that `body` fails with exactly `expected`.
func XCTAssertIdentityError<T>(
    _ expected: IdentityError.Kind,
    _ body: () throws -> T,
    file: StaticString = #filePath,
    line: UInt = #line
) {
    do {
        let value = try body()
        XCTFail("expected \(expected), but it succeeded with \(value)", file: file, line: line)
    } catch let error as IdentityError {
        XCTAssertEqual(error.kind, expected, file: file, line: line)
    } catch {
        XCTFail("expected \(expected), got a non-identity error \(error)", file: file, line: line)
    }
}

/// The error `body` fails with, for kinds whose payload is not predictable.
func identityError<T>(_ body: () throws -> T) -> IdentityError.Kind? {
    do {
        _ = try body()
        return nil
    } catch {
        return (error as? IdentityError)?.kind
    }
}
