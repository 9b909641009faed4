import ALTSIdentity
import XCTest

final class ServiceAccountNameTests: XCTestCase {
    func testNameAndProjectDeriveEmailAndSPIFFEID() throws {
        let account = try ServiceAccountName(name: "alts-server", project: "my-project")
        XCTAssertEqual(account.email, "alts-server@my-project.iam.gserviceaccount.com")
        XCTAssertEqual(account.spiffeID, "spiffe://my-project/sa/alts-server")
        XCTAssertEqual(account.description, "alts-server@my-project.iam.gserviceaccount.com")
    }

    func testEmailRoundTrips() throws {
        let account = try ServiceAccountName(email: "alts-client@proj-7.iam.gserviceaccount.com")
        XCTAssertEqual(account.name, "alts-client")
        XCTAssertEqual(account.project, "proj-7")
        XCTAssertEqual(account, try ServiceAccountName(name: "alts-client", project: "proj-7"))
    }

    func testLabelLengthLimits() throws {
        let longest = "a" + String(repeating: "b", count: 62)
        XCTAssertEqual(try ServiceAccountName(name: longest, project: "p").name, longest)
        XCTAssertIdentityError(.invalidServiceAccount(longest + "c")) {
            try ServiceAccountName(name: longest + "c", project: "p")
        }
    }

    func testBadNamesAreRejected() {
        for bad in ["", "1abc", "-abc", "Alts", "alts_server", "alts.server", "a/b", "a@b", "é", "alts server"] {
            XCTAssertIdentityError(.invalidServiceAccount(bad)) {
                try ServiceAccountName(name: bad, project: "my-project")
            }
        }
    }

    func testBadProjectsAreRejected() {
        for bad in ["", "9p", "My-Project", "my.project", "../etc", "my_project"] {
            XCTAssertIdentityError(.invalidProjectID(bad)) {
                try ServiceAccountName(name: "alts-server", project: bad)
            }
            XCTAssertIdentityError(.invalidProjectID(bad)) {
                try ServiceAccountName.validateProjectID(bad)
            }
        }
    }

    func testBadEmailsAreRejected() {
        let bad = [
            "",
            "alts-server",
            "alts-server@my-project",
            "alts-server@my-project.example.com",
            "@my-project.iam.gserviceaccount.com",
            "alts-server@.iam.gserviceaccount.com",
            "Alts-Server@my-project.iam.gserviceaccount.com",
            "a@b@my-project.iam.gserviceaccount.com",
            "alts-server@evil.com.my-project.iam.gserviceaccount.com",
            "alts-server@my-project.iam.gserviceaccount.com.evil.com",
        ]
        for email in bad {
            XCTAssertIdentityError(.invalidServiceAccount(email)) {
                try ServiceAccountName(email: email)
            }
        }
    }

    func testErrorMessageNamesTheValueAndTheRule() {
        XCTAssertEqual(
            IdentityError(.invalidProjectID("My_Project")).description,
            "invalid project ID 'My_Project': expected 1-63 characters of [a-z0-9-] starting with a letter"
        )
    }
}
