import Foundation

/// Checks a decoded test file against its compiled spec, for `pipe lint` and before
/// `pipe test` runs it: stages that do not exist (did-you-mean), mock values that do not
/// match a stage's output schema, matchers that cannot fit the value they match (typed
/// against the schema: `contains` on a number), models a stage does not use, `given` files
/// that are missing or do not match their stage's schema, and missing cassettes. Every
/// diagnostic is at its place in the test file.
public struct TestFileChecker {
    let file: TestFile
    let pipeline: CompiledPipeline
    /// The test file's directory: where `given:` files and `replay:` cassettes are.
    let directory: String
    private var sink = DiagnosticSink()
    private var validators: [String: JSONSchema] = [:]

    public init(file: TestFile, pipeline: CompiledPipeline, directory: String) {
        self.file = file
        self.pipeline = pipeline
        self.directory = directory
        for stage in pipeline.stages {
            if let schema = stage.outputSchema, let validator = try? JSONSchema(compiling: schema) { validators[stage.name] = validator }
        }
    }

    public static func check(_ file: TestFile, pipeline: CompiledPipeline, directory: String) -> [Diagnostic] {
        var checker = TestFileChecker(file: file, pipeline: pipeline, directory: directory)
        for testCase in file.cases { checker.check(testCase) }
        return checker.sink.sorted
    }

    var stageNames: [String] { pipeline.stages.map(\.name) }

    mutating func check(_ testCase: TestCase) {
        let alone = testCase.stage.flatMap { knownStage($0) }
        for mock in testCase.mocks {
            guard let stage = knownStage(mock.stage) else { continue }
            for answer in mock.answers {
                guard case .value(let value, let span) = answer else { continue }
                checkValue(value, of: stage, at: span, rule: .mockValue, what: "the mock value of `\(stage.name)`")
            }
        }
        for given in testCase.given {
            guard let stage = knownStage(given.stage) else { continue }
            if let alone, !alone.dependencies.contains(stage.name) {
                sink.report(.unknownReference, at: given.stage.span, "`\(alone.name)` does not read `\(stage.name)`",
                    hint: alone.dependencies.isEmpty ? "`\(alone.name)` reads only the input" : "it reads \(alone.dependencies.map { "`\($0)`" }.joined(separator: ", "))")
            }
            switch given.source {
            case .value(let value):
                checkGiven(value, of: stage, at: given.span, what: "the given value of `\(stage.name)`")
            case .file(let path):
                let full = TestCaseRunner.resolve(path, in: directory)
                guard FileManager.default.fileExists(atPath: full) else {
                    sink.report(.invalidValue, at: given.span, "the given file \(path) does not exist",
                        hint: "paths are relative to the test file's directory")
                    continue
                }
                do {
                    let value = try JSONParser.parse(BoundedRead.file(full, limit: ReadLimits.document))
                    checkGiven(value, of: stage, at: given.span, what: "the given file \(path)")
                } catch {
                    sink.report(.invalidValue, at: given.span, "the given file \(path) is not JSON: \(error)")
                }
            }
        }
        if let alone, testCase.given.isEmpty == false || !alone.dependencies.isEmpty {
            let missing = alone.dependencies.filter { name in !testCase.given.contains { $0.stage.value == name } }
            if !missing.isEmpty, let span = testCase.stage?.span {
                sink.report(.missingKey, at: span, "`\(alone.name)` reads \(missing.map { "`\($0)`" }.joined(separator: ", ")), which the case does not give",
                    hint: "add `given: { \(missing[0]): ... }` (a value, or a .json file)")
            }
        }
        if let replay = testCase.replay, !FileManager.default.fileExists(atPath: TestCaseRunner.resolve(replay.value, in: directory)) {
            sink.report(.invalidValue, at: replay.span, "the cassette \(replay.value) does not exist",
                hint: "record it with `pipe run SPEC --record \(replay.value)`; paths are relative to the test file's directory")
        }
        let expect = testCase.expect
        if let matcher = expect.output, let span = expect.outputSpan {
            if let alone {
                typeCheck(matcher, against: shape(of: alone), path: "output", at: span)
            } else {
                typeCheckOutput(matcher, at: span)
            }
        }
        for expected in expect.stages {
            guard let stage = knownStage(expected.stage) else { continue }
            if let model = expected.model, !stage.models.contains(where: { $0.name == model.value }) {
                let names = stage.models.map(\.name)
                sink.report(.unknownModel, at: model.span, "stage `\(stage.name)` does not use model `\(model.value)`",
                    hint: Suggestions.hint(for: model.value, in: names, kind: "its models, in the order it tries them")
                        ?? "a command stage calls no model")
            }
            if let attempts = expected.attempts {
                typeCheck(attempts, against: SchemaShape(["type": "integer"]), path: "stages.\(stage.name).attempts", at: expected.stage.span)
            }
            if let matcher = expected.output, let span = expected.outputSpan {
                typeCheck(matcher, against: shape(of: stage), path: "stages.\(stage.name).output", at: span)
            }
        }
    }

    /// The stage a name in the test file means, or nil after reporting it with did-you-mean.
    mutating func knownStage(_ name: Located<String>) -> CompiledStage? {
        if let stage = pipeline.stage(named: name.value) { return stage }
        sink.report(.unknownReference, at: name.span, "the spec has no stage `\(name.value)`",
            hint: Suggestions.hint(for: name.value, in: stageNames, kind: "its stages"))
        return nil
    }

    /// A given value: the stage's value, or for a `for_each` stage the list of its items' values.
    mutating func checkGiven(_ value: JSONValue, of stage: CompiledStage, at span: Span, what: String) {
        guard stage.forEach != nil else {
            return checkValue(value, of: stage, at: span, rule: .typeMismatch, what: what)
        }
        guard case .array(let items) = value else {
            sink.report(.typeMismatch, at: span, "\(what) must be a list: `\(stage.name)` runs for each item (`for_each`)")
            return
        }
        for item in items { checkValue(item, of: stage, at: span, rule: .typeMismatch, what: what + " (an item)") }
    }

    mutating func checkValue(_ value: JSONValue, of stage: CompiledStage, at span: Span, rule: RuleID, what: String) {
        guard let validator = validators[stage.name] else { return }
        let errors = validator.validate(value, maxErrors: 3)
        guard let first = errors.first else { return }
        sink.report(rule, at: span, "\(what) does not match its output schema: \(first)",
            hint: errors.count > 1 ? "and \(errors.count - 1) more problem\(errors.count == 2 ? "" : "s")"
                : rule == .mockValue ? "a raw reply that breaks the schema on purpose is `{ reply: \"...\" }`" : nil)
    }

    mutating func typeCheck(_ matcher: Matcher, against shape: SchemaShape, path: String, at span: Span) {
        for diagnostic in matcher.typeErrors(against: shape, path: path, at: span) { sink.report(diagnostic) }
    }

    /// The value of a stage, as the next stages read it.
    func shape(of stage: CompiledStage) -> SchemaShape {
        switch (stage.outputSchema, stage.forEach != nil) {
        case (let schema?, false): SchemaShape(schema)
        case (let schema?, true): SchemaShape(listOf: schema)
        case (nil, false): .string
        case (nil, true): .stringList
        }
    }

    /// The shape of what a template renders to: the value of a lone reference, else a string;
    /// nil when it cannot be known here.
    func shape(of template: Template) -> SchemaShape? {
        guard let reference = template.singleReference else { return .string }
        guard reference.fallback == nil else { return nil }
        let root: SchemaShape
        if reference.root.value == "input" {
            root = pipeline.inputSchema.map { SchemaShape($0) } ?? .string
        } else if let stage = pipeline.stage(named: reference.root.value) {
            root = shape(of: stage)
        } else {
            return nil
        }
        return root.walk(reference.path).shape
    }

    /// Types `expect.output` against the pipeline's `output:` (its fields, or its sinks).
    mutating func typeCheckOutput(_ matcher: Matcher, at span: Span) {
        var fields: [(name: String, shape: SchemaShape?)]
        switch pipeline.output {
        case .single(let template):
            if let shape = shape(of: template) { typeCheck(matcher, against: shape, path: "output", at: span) }
            return
        case .fields(let declared):
            fields = declared.map { ($0.name, shape(of: $0.template)) }
        case .sinks(let names):
            fields = names.map { name in (name, pipeline.stage(named: name).map { shape(of: $0) }) }
        }
        var inner = matcher
        var innerSpan = span
        while case .at(let at, let next) = inner {
            inner = next
            innerSpan = at
        }
        guard case .fields(let matched) = inner else { return }
        for field in matched {
            let fieldSpan = field.span ?? innerSpan
            guard let declared = fields.first(where: { $0.name == field.name }) else {
                sink.report(.unknownField, at: fieldSpan, "the pipeline's output has no field `\(field.name)`",
                    hint: Suggestions.hint(for: field.name, in: fields.map(\.name), kind: "its fields"))
                continue
            }
            if let shape = declared.shape {
                typeCheck(field.matcher, against: shape, path: Matcher.fieldPath("output", field.name), at: fieldSpan)
            }
        }
    }
}
