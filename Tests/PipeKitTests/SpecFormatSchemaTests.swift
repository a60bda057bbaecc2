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

    @Test func providersAreTheRegistrys() throws {
        let provider = try #require(JSONPointer("/$defs/model/properties/provider")?.resolve(in: Self.schema))
        #expect(
            provider["enum"]?.arrayValue?.compactMap(\.stringValue) == ProviderRegistry.names,
            "edit the provider enum of schemas/pipeline.schema.json, then run scripts/embed-pipeline-schema.sh")
        // Editors show each provider with the variables it reads.
        let description = provider["markdownDescription"]?.stringValue ?? ""
        for entry in ProviderRegistry.all {
            #expect(description.contains("`\(entry.name)`"), "\(entry.name) is not described")
            for variable in [entry.api?.apiKeyVariable, entry.api?.baseURLVariable].compactMap({ $0 }) {
                #expect(description.contains(variable), "\(entry.name): \(variable) is not named")
            }
        }
        for key in ["base_url", "api_key_env"] {
            let text = JSONPointer("/$defs/model/properties/\(key)")?.resolve(in: Self.schema)?["description"]?.stringValue ?? ""
            let variables = key == "base_url" ? ProviderRegistry.baseURLVariables : ProviderRegistry.apiKeyVariables
            #expect(variables.allSatisfy(text.contains), "the description of `\(key)` does not name \(variables)")
        }
    }

    /// For each provider, a model without a model id and one with a high temperature: the schema
    /// accepts exactly what `pipe lint` accepts.
    @Test(arguments: ProviderRegistry.all)
    func schemaAndLintAgreeOnAProvidersModels(_ provider: Provider) throws {
        let validator = try JSONSchema(compiling: Self.schema)
        for model in ["{ provider: \(provider.name) }", "{ provider: \(provider.name), model: m1, temperature: 1.5 }"] {
            let text = "version: 1\nmodels:\n  m: \(model)\nstages:\n  s: { prompt: \"x\", model: m }\n"
            let source = SourceFile(path: "provider.yaml", bytes: Array(text.utf8))
            var sink = DiagnosticSink()
            let node = try #require(YAMLLoader().load(source, diagnostics: &sink))
            let lint = Compiler.compile(source, directory: "/nonexistent").diagnostics
            let schemaErrors = validator.validate(node.json)
            #expect(lint.isEmpty == schemaErrors.isEmpty, "\(model): lint \(lint), schema \(schemaErrors)")
        }
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
