import Testing
@testable import PipeKit

@Test func versionIsSemantic() {
    #expect(PipeVersion.current.split(separator: ".").count == 3)
}
