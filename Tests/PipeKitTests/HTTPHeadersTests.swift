import Testing
@testable import PipeKit

/// Header fields are found by name in any case, as `lowercased()` of both names compares them.
@Suite struct HTTPHeadersTests {
    @Test func namesMatchInAnyCase() {
        var headers: HTTPHeaders = ["Content-Type": "text/event-stream", "x-request-id": "a", "X-Request-ID": "b", "Émoji": "é"]
        #expect(headers["content-type"] == "text/event-stream")
        #expect(headers["CONTENT-TYPE"] == "text/event-stream")
        #expect(headers["content-typ"] == nil && headers["content-types"] == nil)
        #expect(headers.values(for: "X-REQUEST-ID") == ["a", "b"])
        // Names outside ASCII compare as `lowercased()` does.
        #expect(headers["émoji"] == "é")
        #expect(headers["emoji"] == nil)
        // `[` and `{` differ by the bit that makes a letter lowercase, but are not letters.
        let brackets: HTTPHeaders = ["a[": "1"]
        #expect(brackets["a{"] == nil && brackets["A["] == "1")
        headers.remove(name: "X-Request-Id")
        #expect(headers.values(for: "x-request-id").isEmpty)
        headers.set(name: "CONTENT-type", value: "application/json")
        #expect(headers.count == 2 && headers["Content-Type"] == "application/json")
    }
}
