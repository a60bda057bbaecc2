import Foundation
import Testing
@testable import PipeKit

/// The library side of `pipe check-json`.
@Suite struct JSONDocumentCheckTests {
    func temporaryFile(_ name: String, _ text: String) throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pipe-check-json-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let url = directory.appendingPathComponent(name)
        try Data(text.utf8).write(to: url)
        return url.path
    }

    @Test func findingsNameTheFile() throws {
        let schemaPath = try temporaryFile("s.json", #"{"type": "object", "required": ["source"]}"#)
        let schema = try JSONDocumentCheck.loadSchema(path: schemaPath, assertFormat: false)
        let findings = try JSONDocumentCheck.check(Array(#"{"facts": []}"#.utf8), name: "out.json", against: schema)
        #expect(findings.map(\.line) == [#"out.json: (root): missing required property "source""#])
        #expect(findings.first?.json == ["file": "out.json", "instanceLocation": "", "keywordLocation": "/required", "message": #"missing required property "source""#])
        #expect(try JSONDocumentCheck.check(Array(#"{"source": 1}"#.utf8), name: "ok.json", against: schema).isEmpty)
    }

    @Test func parseErrorsNameFileLineAndColumn() throws {
        let schema = try JSONSchema(compiling: true)
        #expect {
            _ = try JSONDocumentCheck.check(Array("{\n  \"a\": tru\n}".utf8), name: "x.json", against: schema)
        } throws: { error in
            (error as? JSONDocumentCheck.Failure)?.description == "x.json:2:8: not valid JSON: invalid literal, expected 'true'"
        }
    }

    @Test func relativeReferencesToSiblingFilesAreLoaded() throws {
        let common = try temporaryFile("common.schema.json", #"{"$defs": {"source": {"type": "object", "required": ["url"]}}}"#)
        let directory = URL(fileURLWithPath: common).deletingLastPathComponent()
        let main = directory.appendingPathComponent("main.schema.json").path
        try Data(#"{"type": "object", "properties": {"source": {"$ref": "common.schema.json#/$defs/source"}}}"#.utf8).write(to: URL(fileURLWithPath: main))
        let schema = try JSONDocumentCheck.loadSchema(path: main, assertFormat: false)
        #expect(schema.isValid(["source": ["url": "x"]]))
        #expect(schema.validate(["source": [:]]).map(\.description) == [#"/source: missing required property "url""#])
        // Outside the schema's directory tree: not read, so the reference is unresolvable.
        let escaping = directory.appendingPathComponent("escaping.schema.json").path
        try Data(#"{"$ref": "../elsewhere.json"}"#.utf8).write(to: URL(fileURLWithPath: escaping))
        #expect(throws: JSONDocumentCheck.Failure.self) { try JSONDocumentCheck.loadSchema(path: escaping, assertFormat: false) }
    }

    @Test func unusableSchemas() throws {
        let notASchema = try temporaryFile("bad.json", #"{"minLength": "3"}"#)
        #expect(throws: JSONDocumentCheck.Failure.self) { try JSONDocumentCheck.loadSchema(path: notASchema, assertFormat: false) }
        let remote = try temporaryFile("remote.json", #"{"$ref": "https://example.com/x.json"}"#)
        do {
            _ = try JSONDocumentCheck.loadSchema(path: remote, assertFormat: false)
            Issue.record("expected a failure")
        } catch {
            #expect(error.description.contains("https://example.com/x.json"))
        }
        #expect(throws: JSONDocumentCheck.Failure.unreadable(file: "/nonexistent/s.json", reason: "no such file or directory")) {
            try JSONDocumentCheck.loadSchema(path: "/nonexistent/s.json", assertFormat: false)
        }
    }
}
