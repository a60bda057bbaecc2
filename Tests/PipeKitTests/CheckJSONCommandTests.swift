import Foundation
import Testing
@testable import PipeKit

/// `pipe check-json` run as a user runs it: exit codes, stdout and stderr.
@Suite struct CheckJSONCommandTests {
    let directory: URL

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("pipe-check-json-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try write("schema.json", #"{"type": "object", "required": ["title"], "properties": {"title": {"type": "string"}, "day": {"format": "date"}}}"#)
        try write("good.json", #"{"title": "ok"}"#)
        try write("bad.json", #"{"title": 3, "day": "someday"}"#)
        try write("broken.json", "{\n  \"title\": \"x\",\n}")
    }

    func write(_ name: String, _ text: String) throws {
        try Data(text.utf8).write(to: directory.appendingPathComponent(name))
    }

    func run(_ arguments: [String], stdin: String? = nil) async throws -> CommandResult {
        try await runPipe(["check-json", "--schema", "schema.json"] + arguments, stdin: stdin, directory: directory)
    }

    @Test func validDocumentsExitZeroSilently() async throws {
        let result = try await run(["good.json"])
        #expect(result.status == 0)
        #expect(result.stdout.isEmpty && result.stderr.isEmpty)
    }

    @Test func invalidDocumentsExitOneWithOneLinePerError() async throws {
        let result = try await run(["good.json", "bad.json"])
        #expect(result.status == 1)
        #expect(result.stderr == "bad.json: /title: expected string, got number 3\n")
        let strict = try await run(["--assert-format", "bad.json"])
        #expect(strict.stderr.contains(#"bad.json: /day: must be a valid date, got "someday""#))
    }

    @Test func standardInputIsNamedStdin() async throws {
        let result = try await run([], stdin: "{}")
        #expect(result.status == 1)
        #expect(result.stderr == "<stdin>: (root): missing required property \"title\"\n")
    }

    @Test func jsonFormatPrintsAnArrayOnStdout() async throws {
        let result = try await run(["--format", "json", "bad.json", "good.json"])
        #expect(result.status == 1)
        let printed = try JSONParser.parse(result.stdout)
        #expect(printed == [["file": "bad.json", "instanceLocation": "/title", "keywordLocation": "/properties/title/type", "message": "expected string, got number 3"]])
        #expect(try await run(["--format", "json", "good.json"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "[]")
    }

    @Test func unreadableOrBrokenDocumentsExitTwo() async throws {
        let broken = try await run(["broken.json"])
        #expect(broken.status == 2)
        #expect(broken.stderr == "broken.json:3:1: not valid JSON: expected a string key in object, found '}'\n")
        #expect(try await run(["missing.json"]).status == 2)
    }

    @Test func unusableSchemaExitsTwo() async throws {
        try write("remote.json", #"{"$ref": "https://example.com/s.json"}"#)
        let result = try await runPipe(["check-json", "--schema", "remote.json", "good.json"], directory: directory)
        #expect(result.status == 2)
        #expect(result.stderr.contains("https://example.com/s.json"))
    }
}
