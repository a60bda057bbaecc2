import Foundation
@testable import PipeKit

/// What a pipeline's output must look like, read from its spec: the keys `output:` declares
/// (the sink stages' names without one), each value of a JSON type that the schemas allow for
/// what its template names (a string for a template that is not exactly one reference).
struct DeclaredOutput {
    let pipeline: CompiledPipeline

    /// The example's compiled pipeline; it must compile.
    static func compile(_ spec: URL) throws -> CompiledPipeline {
        let source = SourceFile(path: spec.path, bytes: [UInt8](try Data(contentsOf: spec)))
        let result = Compiler.compile(source, directory: spec.deletingLastPathComponent().path)
        guard let pipeline = result.pipeline else { throw CompileFailure(diagnostics: result.diagnostics) }
        return pipeline
    }

    struct CompileFailure: Error {
        var diagnostics: [Diagnostic]
    }

    /// Where `output` departs from the declaration, in words; empty when it fits.
    func problems(in output: JSONValue) -> [String] {
        switch pipeline.output {
        case .single(let template):
            return problems(output, types: types(of: template), at: "the output")
        case .fields(let fields):
            return problems(output, keys: fields.map { ($0.name, types(of: $0.template)) })
        case .sinks(let names):
            return problems(output, keys: names.map { ($0, types(ofShape: rootShape($0))) })
        }
    }

    private func problems(_ output: JSONValue, keys: [(name: String, types: Set<String>?)]) -> [String] {
        guard let object = output.objectValue else { return ["the output is \(output.typeName), not an object"] }
        var problems: [String] = []
        if Set(object.keys) != Set(keys.map(\.name)) {
            problems.append("the output has the keys \(object.keys.sorted()), the spec declares \(keys.map(\.name).sorted())")
        }
        for key in keys {
            if let value = object[key.name] { problems += self.problems(value, types: key.types, at: "`\(key.name)`") }
        }
        return problems
    }

    private func problems(_ value: JSONValue, types: Set<String>?, at place: String) -> [String] {
        guard let types else { return [] }
        let type = value.typeName
        if types.contains(type) || (type == "integer" && types.contains("number")) { return [] }
        return ["\(place) is \(type) (\(value.serialized().prefix(60))), the schemas give \(types.sorted())"]
    }

    /// The JSON types a template can produce; nil when the schemas allow any.
    func types(of template: Template) -> Set<String>? {
        guard let reference = template.singleReference else { return ["string"] }
        return types(of: reference)
    }

    /// The types of what a reference names, or of its `??` fallbacks.
    private func types(of reference: TemplateReference) -> Set<String>? {
        guard let types = types(ofShape: rootShape(reference.root.value)?.walk(reference.path).shape) else { return nil }
        switch reference.fallback {
        case nil: return types
        case .literal(let value, _): return types.union([value.typeName])
        case .reference(let next): return self.types(of: next).map(types.union)
        }
    }

    private func types(ofShape shape: SchemaShape?) -> Set<String>? {
        guard let shape else { return nil }
        var types: Set<String> = []
        for schema in shape.schemas {
            guard let allowed = SchemaShape.types(of: schema) else { return nil }
            types.formUnion(allowed)
        }
        return types
    }

    /// `input`, or a stage's value (a list of its items' outputs for a `for_each` stage).
    private func rootShape(_ root: String) -> SchemaShape? {
        if root == "input" { return pipeline.inputSchema.map { SchemaShape($0) } ?? .string }
        guard let stage = pipeline.stage(named: root) else { return nil }
        let one = stage.outputSchema ?? ["type": "string"]
        return SchemaShape(stage.forEach == nil ? one : ["type": "array", "items": one])
    }
}
