import ALTSIdentity
import XCTest

final class DurationParserTests: XCTestCase {
    func testGoStyleDurations() throws {
        XCTAssertEqual(try DurationParser.parse("90s"), 90)
        XCTAssertEqual(try DurationParser.parse("30m"), 1800)
        XCTAssertEqual(try DurationParser.parse("24h"), 86_400)
        XCTAssertEqual(try DurationParser.parse("7d"), 604_800)
        XCTAssertEqual(try DurationParser.parse("1h30m"), 5400)
        XCTAssertEqual(try DurationParser.parse("1.5h"), 5400)
        XCTAssertEqual(try DurationParser.parse("1d2h3m4s"), 93_784)
        XCTAssertEqual(try DurationParser.parse("1500ms"), 1.5)
    }

    func testBadDurationsAreRejected() {
        for bad in ["", "24", "h", "-1h", "+1h", "1x", "5y", "1h30", " 1h", "1h ", "0s", "0h0m", "1..5h", "36500000d"] {
            XCTAssertIdentityError(.invalidDuration(bad)) {
                try DurationParser.parse(bad)
            }
        }
    }
}
