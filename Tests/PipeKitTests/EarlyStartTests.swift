import Foundation
import Testing
@testable import PipeKit

/// `pipe run` starts compiling its spec and opening its run store before ArgumentParser parses
/// its arguments, from a guess at which argument names the spec (`EarlyStart`): whatever the
/// guess, the run is the one the arguments ask for.
@Suite struct EarlyStartTests {
    static let spec = """
        version: 1
        models: { m: { provider: anthropic, model: claude-test } }
        defaults: { model: m, max_tokens: 100 }
        stages:
          summary: { prompt: "Summarize: {{ input }}" }

        """

    @Test func anArgumentBeforeTheSpecThatLooksLikeOneChangesNothing() async throws {
        let folder = try TemporaryFolder()
        let other = folder.url.appendingPathComponent("other"), main = folder.url.appendingPathComponent("main")
        for directory in [other, main] { try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true) }
        // A run store beside other/first.yaml, and an input file beside it that looks like a
        // spec to the guess but is not one.
        let first = other.appendingPathComponent("first.yaml"), input = other.appendingPathComponent("input.yaml")
        try Self.spec.write(to: first, atomically: true, encoding: .utf8)
        try "topic: tides\n".write(to: input, atomically: true, encoding: .utf8)
        let spec = main.appendingPathComponent("spec.yaml")
        try Self.spec.replacingOccurrences(of: "summary", with: "digest").write(to: spec, atomically: true, encoding: .utf8)
        // Both stores exist: the guess would open the one beside input.yaml.
        for existing in [first, spec] {
            #expect(try await runPipe(["run", "--mock", "--quiet", existing.path], stdin: "before").status == 0)
        }

        let run = try await runPipe(["run", "--mock", "--quiet", "--input", input.path, spec.path])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try JSONParser.parse(run.stdout)["digest"]?.stringValue == "Mock output of stage digest (m), for: Summarize: topic: tides")
        // Nothing of the compile of input.yaml is said.
        #expect(run.stderr.isEmpty, "\(run.stderr)")
        // Recorded beside the spec it ran, not in the store beside input.yaml.
        let recorded = try JSONParser.parse(try await runPipe(["logs", "last", "--json", "--store", main.appendingPathComponent(".pipe/pipe.db").path]).stdout)
        #expect(recorded["input"] == .string("topic: tides"))
        let others = try JSONParser.parse(try await runPipe(["logs", "--json", "--store", other.appendingPathComponent(".pipe/pipe.db").path]).stdout)
        #expect(others.arrayValue?.count == 1)
    }

    @Test func theStoreNamedWithAnEqualsSignIsTheOneRecorded() async throws {
        let folder = try TemporaryFolder()
        let spec = folder.url.appendingPathComponent("spec.yaml"), store = folder.url.appendingPathComponent("named.db").path
        try Self.spec.write(to: spec, atomically: true, encoding: .utf8)
        // Both stores exist: the default one beside the spec, and the one named.
        for arguments in [[spec.path], ["--store", store, spec.path]] {
            #expect(try await runPipe(["run", "--mock", "--quiet"] + arguments, stdin: "before").status == 0)
        }
        #expect(try await runPipe(["run", "--mock", "--quiet", "--store=\(store)", spec.path], stdin: "named").status == 0)
        let named = try JSONParser.parse(try await runPipe(["logs", "last", "--json", "--store", store]).stdout)
        #expect(named["input"] == .string("named"))
        let beside = try JSONParser.parse(try await runPipe(["logs", "--json", "--store", folder.storePath]).stdout)
        #expect(beside.arrayValue?.count == 1)
    }

    @Test func aSpecWhoseSchemaIsNotOneStopsTheRunBeforeAnyCall() async throws {
        let folder = try TemporaryFolder()
        let spec = folder.url.appendingPathComponent("spec.yaml")
        try Self.spec.replacingOccurrences(of: "{{ input }}\" }", with: "{{ input }}\", output: { schema: { type: 3 } } }")
            .write(to: spec, atomically: true, encoding: .utf8)
        let run = try await runPipe(["run", "--mock", "--no-store", spec.path], stdin: "text")
        #expect(run.status == 2)
        #expect(run.stderr.contains("invalid-schema"), "\(run.stderr)")
        #expect(run.stdout.isEmpty)
    }
}
