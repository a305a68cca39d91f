// Smoke tests of the Swift package: the library links, rules cross, errors are typed.
// The full behaviour is tested on the JVM (powergym-ffi/kotlin) against the same library.
import XCTest
@testable import PowerGym

final class PowerGymTests: XCTestCase {
    func testTheLibraryLinksAndShipsItsSchema() {
        XCTAssertGreaterThan(latestSchemaVersion(), 0)
    }

    func testAPeriodEndsTheDayBeforeTheSameDateNextMonth() throws {
        let start = "2025-01-31"
        XCTAssertEqual(try endDate(start: start, unit: .month, count: 1), "2025-02-28")
    }

    func testABadFaceSearchIsRefusedByCore() async {
        do {
            _ = try await Gym.connect(
                url: "postgres://u:p@127.0.0.1:1/db",
                options: ConnectOptions(faceSearch: "ivfflat")
            )
            XCTFail("connected with an unknown face search")
        } catch let PowergymError.Validation(field, _, _) {
            XCTAssertEqual(field, "face_search")
        } catch {
            XCTFail("unexpected \(error)")
        }
    }
}
