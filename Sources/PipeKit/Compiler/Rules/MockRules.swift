// Rule `mock-value`: a stage's `mock:` values are what its model could validly answer.
extension Compilation {
    mutating func checkMockValues() {
        for stage in spec.stages where !stage.mock.isEmpty {
            let text: JSONValue? = stage.outputSchema == nil ? ["type": "string"] : nil
            guard let schema = outputSchemas[stage.name.value] ?? text, let validator = try? JSONSchema(compiling: schema)
            else { continue }
            for (value, node) in stage.mock {
                for error in validator.validate(value, maxErrors: 3) {
                    let at = node.node(at: JSONPointer(error.instanceLocation) ?? JSONPointer())
                    diagnostics.report(
                        .mockValue, at: at.span, "this `mock:` value of stage `\(stage.name.value)` does not match its output schema: \(error)",
                        hint: "the mock provider gives these values in turn; each must be a valid reply")
                }
            }
        }
    }
}
