import Foundation
import Testing
@testable import PipeKit

/// Bad input of any kind gets a diagnostic, never a crash or a hang.
@Suite struct HostileInputTests {
    func compile(_ bytes: [UInt8]) -> Compiler.Result {
        Compiler.compile(SourceFile(path: "hostile.yaml", bytes: bytes), directory: "/nonexistent")
    }

    @Test func emptyFile() {
        #expect(compile([]).diagnostics.map(\.rule) == [.emptySpec])
        #expect(compile(Array("\n\n# only a comment\n".utf8)).diagnostics.map(\.rule) == [.emptySpec])
    }

    @Test func binaryGarbage() {
        var generator = SplitMix64(state: 11)
        let bytes = (0..<4096).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let result = compile(bytes)
        #expect(result.hasErrors)
        #expect(result.diagnostics.first?.rule == .yamlSyntax)
    }

    @Test func aScalarAtTheRoot() {
        #expect(compile(Array("just some text".utf8)).diagnostics.map(\.rule) == [.typeMismatch])
    }

    @Test func tenMegabyteFile() {
        let line = "- some padding line of text that goes on\n"
        let result = compile(Array(String(repeating: line, count: 10 * 1024 * 1024 / line.utf8.count + 1).utf8))
        #expect(result.diagnostics.map(\.rule) == [.yamlLimit])
    }

    @Test func deepNesting() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(compile(Array(deep.utf8)).diagnostics.map(\.rule) == [.yamlLimit])
        let deepBlock = (0..<500).map { String(repeating: "  ", count: $0) + "k\($0):" }.joined(separator: "\n")
        #expect(compile(Array(deepBlock.utf8)).diagnostics.map(\.rule) == [.yamlLimit])
    }

    @Test func billionLaughs() throws {
        let url = Paths.testdata.appendingPathComponent("lint/err/yaml-bomb.yaml")
        let start = ContinuousClock.now
        let result = compile([UInt8](try Data(contentsOf: url)))
        #expect(result.diagnostics.map(\.rule) == [.yamlLimit])
        // Not a benchmark: a file that expands exponentially must fail long before it expands.
        #expect(ContinuousClock.now - start < .seconds(5))
    }

    @Test func manyStagesAndLongLines() {
        var text = "version: 1\nmodels: { m: { provider: mock } }\ndefaults: { model: m }\nstages:\n"
        for i in 0..<2000 { text += "  s\(i):\n    prompt: \"\(String(repeating: "x", count: 200)) {{ input }}\"\n" }
        let result = compile(Array(text.utf8))
        #expect(!result.hasErrors)
        #expect(result.pipeline?.stages.count == 2000)
    }
}
