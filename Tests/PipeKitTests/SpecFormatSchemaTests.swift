import Foundation
import Testing
@testable import PipeKit

/// `schemas/pipeline.schema.json` (for editors) and the compiler describe the same format.
@Suite struct SpecFormatSchemaTests {
    static let schema: JSONValue = {
        let url = Paths.root.appendingPathComponent("schemas/pipeline.schema.json")
        return (try? JSONParser.parse([UInt8]((try? Data(contentsOf: url)) ?? Data()))) ?? .null
    }()

    static let badSpecs = Paths.files(in: Paths.testdata.appendingPathComponent("spec-schema/bad"), withExtension: "yaml")

    func keys(_ pointer: String) -> [String] {
        JSONPointer(pointer)?.resolve(in: Self.schema)?["properties"]?.objectValue?.keys.sorted() ?? []
    }

    @Test func theSchemaIsAValidSchema() throws {
        #expect(JSONSchema.metaSchemaErrors(for: Self.schema).isEmpty)
        _ = try JSONSchema(compiling: Self.schema)
    }

    @Test func keysMatchTheCompiler() {
        #expect(keys("") == SpecKeys.topLevel.sorted())
        #expect(keys("/properties/defaults") == SpecKeys.settings.sorted())
        #expect(keys("/$defs/stage") == SpecKeys.stage.sorted())
        #expect(keys("/$defs/model") == SpecKeys.model.sorted())
        #expect(keys("/properties/budget") == SpecKeys.budget.sorted())
    }

    @Test func examplesAndCorpusAgreeWithTheSchema() throws {
        let validator = try JSONSchema(compiling: Self.schema)
        let files = Paths.files(in: Paths.pipelines, withExtension: "yaml")
            + Paths.files(in: Paths.testdata.appendingPathComponent("lint/ok"), withExtension: "yaml")
        for url in files {
            var sink = DiagnosticSink()
            let node = YAMLLoader().load(SourceFile(path: url.path, bytes: [UInt8](try Data(contentsOf: url))), diagnostics: &sink)
            let errors = validator.validate(try #require(node).json)
            #expect(errors.isEmpty, "\(url.lastPathComponent): \(errors)")
        }
    }

    /// Each spec in `testdata/spec-schema/bad` breaks the published schema in one way; lint
    /// must reject it too, so that lint checks at least what editors check.
    @Test(arguments: badSpecs)
    func lintRejectsWhatTheSchemaRejects(_ url: URL) throws {
        let validator = try JSONSchema(compiling: Self.schema)
        let source = SourceFile(path: url.lastPathComponent, bytes: [UInt8](try Data(contentsOf: url)))
        var sink = DiagnosticSink()
        let node = try #require(YAMLLoader().load(source, diagnostics: &sink), "\(sink.diagnostics)")
        let schemaErrors = validator.validate(node.json)
        #expect(!schemaErrors.isEmpty, "the schema accepts \(url.lastPathComponent): it is not a bad spec")
        let lintRejects = Compiler.compile(source, directory: url.deletingLastPathComponent().path).hasErrors
        #expect(lintRejects, "lint accepts \(url.lastPathComponent), which the schema rejects: \(schemaErrors)")
    }

    @Test func theBadSpecCorpusIsLarge() {
        #expect(Self.badSpecs.count >= 25)
    }
}
