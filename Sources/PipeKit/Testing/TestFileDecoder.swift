/// Reads a test file's positioned YAML into a `TestFile`, reporting its shape's problems
/// (unknown keys with did-you-mean, wrong types, unknown error kinds) at their spans.
/// What needs the spec (stage names, schemas) is `TestFileChecker`'s.
public struct TestFileDecoder {
    public private(set) var diagnostics: DiagnosticSink

    /// At most this many cases a file, and answers a stage's mock (`times:` included).
    public static let maxCases = 1000
    public static let maxAnswers = 1000

    public init(diagnostics: DiagnosticSink = DiagnosticSink()) {
        self.diagnostics = diagnostics
    }

    /// Loads and decodes a test file; nil when it is not even a mapping.
    public static func decode(_ source: SourceFile) -> (file: TestFile?, diagnostics: [Diagnostic]) {
        var sink = DiagnosticSink()
        guard let root = YAMLLoader().load(source, diagnostics: &sink), !root.isNull else {
            if !sink.hasErrors {
                sink.report(.emptySpec, at: .fileStart(source.path), "the test file is empty",
                    hint: "start with `spec: NAME.yaml` and a `cases:` list")
            }
            return (nil, sink.sorted)
        }
        var decoder = TestFileDecoder(diagnostics: sink)
        let file = decoder.decode(root, source: source)
        return (file, decoder.diagnostics.sorted)
    }

    public mutating func decode(_ root: YAMLNode, source: SourceFile) -> TestFile? {
        guard let pairs = mapping(root, what: "a test file") else { return nil }
        checkKeys(pairs, allowed: TestFile.keys, in: "the test file")
        let spec = string(root["spec"], key: "spec")
        var cases: [TestCase] = []
        if let node = root["cases"] {
            if let items = sequence(node, what: "`cases`") {
                if items.count > Self.maxCases {
                    diagnostics.report(.yamlLimit, at: node.span, "a test file may have at most \(Self.maxCases) cases, this one has \(items.count)",
                        hint: "split it into several test files")
                }
                var names: [String: Span] = [:]
                for item in items.prefix(Self.maxCases) {
                    guard let testCase = decodeCase(item, index: cases.count) else { continue }
                    if let first = names[testCase.name.value] {
                        diagnostics.report(.invalidValue, at: testCase.name.span, "two cases are named `\(testCase.name.value)`",
                            hint: "give each case its own name", related: [RelatedLocation(first, "the first one")])
                    }
                    names[testCase.name.value] = testCase.name.span
                    cases.append(testCase)
                }
            }
        } else if root["evals"] == nil {
            diagnostics.report(.missingKey, at: root.span, "the test file has no `cases:`",
                hint: "add `cases:` with a list of `- name: ...` entries")
        }
        return TestFile(source: source, spec: spec, cases: cases)
    }

    static let caseKeys = ["name", "input", "mocks", "expect", "stage", "given", "replay"]
    static let expectKeys = ["exit", "output", "stages"]
    static let stageExpectKeys = ["attempts", "model", "status", "output"]

    mutating func decodeCase(_ node: YAMLNode, index: Int) -> TestCase? {
        guard let pairs = mapping(node, what: "a case") else { return nil }
        checkKeys(pairs, allowed: Self.caseKeys, in: "a case")
        let name = string(node["name"], key: "name") ?? Located("case \(index + 1)", at: node.span)
        if node["name"] == nil {
            diagnostics.report(.missingKey, at: node.span, "a case needs a `name`", hint: "add `name: what this case shows`")
        }
        var mocks: [StageMock] = []
        if let mocksNode = node["mocks"], let entries = mapping(mocksNode, what: "`mocks`") {
            for entry in entries {
                guard let stage = key(entry) else { continue }
                mocks.append(StageMock(stage: stage, answers: answers(entry.value)))
            }
        }
        var given: [GivenValue] = []
        if let givenNode = node["given"], let entries = mapping(givenNode, what: "`given`") {
            for entry in entries {
                guard let stage = key(entry) else { continue }
                let source: GivenValue.Source
                if case .string(let text) = entry.value.json, text.hasSuffix(".json") {
                    source = .file(text)
                } else {
                    source = .value(entry.value.json)
                }
                given.append(GivenValue(stage: stage, source: source, span: entry.value.span))
            }
        }
        let stage = string(node["stage"], key: "stage")
        if stage == nil, let first = given.first {
            diagnostics.report(.missingKey, at: first.stage.span, "`given` goes with `stage:`, the one stage the case runs",
                hint: "add `stage: NAME`, or move these values into `mocks`")
        }
        return TestCase(
            name: name, input: node["input"]?.json, mocks: mocks, expect: expectation(node["expect"]), stage: stage,
            given: given, replay: string(node["replay"], key: "replay"), span: node.span)
    }

    /// A stage's mock: one answer, or a list of answers in turn.
    mutating func answers(_ node: YAMLNode) -> [MockAnswer] {
        let items = node.sequence ?? [node]
        var answers: [MockAnswer] = []
        for item in items {
            answers += answer(item)
            if answers.count > Self.maxAnswers {
                diagnostics.report(.yamlLimit, at: item.span, "a stage's mock may have at most \(Self.maxAnswers) answers",
                    hint: "lower `times:`")
                return Array(answers.prefix(Self.maxAnswers))
            }
        }
        return answers
    }

    /// `{ error: KIND, times: N }`, `{ reply: "text" }`, or a value.
    mutating func answer(_ node: YAMLNode) -> [MockAnswer] {
        guard let pairs = node.mapping else { return [.value(node.json, node.span)] }
        if let reply = node["reply"] {
            checkKeys(pairs, allowed: ["reply"], in: "a `reply:` answer")
            guard let text = string(reply, key: "reply") else { return [] }
            return [.reply(text.value, node.span)]
        }
        guard let errorNode = node["error"] else { return [.value(node.json, node.span)] }
        checkKeys(pairs, allowed: ["error", "times"], in: "an `error:` answer")
        guard let text = errorNode.scalar, let error = InjectedError(text) else {
            diagnostics.report(.invalidValue, at: errorNode.span, "`error` must be \(InjectedError.names.map { "`\($0)`" }.joined(separator: ", ")) or an HTTP status from 400 to 599, found \(errorNode.scalar.map { "`\($0)`" } ?? errorNode.kindDescription)",
                hint: errorNode.scalar.flatMap { Suggestions.closest(to: $0, in: InjectedError.names) }.map { "did you mean `\($0)`?" }
                    ?? "for example `error: 429` or `error: timeout`")
            return []
        }
        var times = 1
        if let timesNode = node["times"] {
            guard case .int(let count) = YAMLScalarValue(timesNode), (1...Self.maxAnswers).contains(count) else {
                diagnostics.report(.invalidValue, at: timesNode.span, "`times` must be a whole number from 1 to \(Self.maxAnswers)")
                return []
            }
            times = count
        }
        return Array(repeating: .error(error, node.span), count: times)
    }

    mutating func expectation(_ node: YAMLNode?) -> TestExpectation {
        guard let node, let pairs = mapping(node, what: "`expect`") else { return TestExpectation() }
        checkKeys(pairs, allowed: Self.expectKeys, in: "`expect`")
        var expectation = TestExpectation()
        if let exitNode = node["exit"] {
            if case .int(let code) = YAMLScalarValue(exitNode), (0...255).contains(code) {
                expectation.exit = Located(code, at: exitNode.span)
            } else {
                diagnostics.report(.typeMismatch, at: exitNode.span, "`exit` must be an exit status from 0 to 255, found \(exitNode.kindDescription)",
                    hint: "0 success, 1 a stage failed, 4 a budget would be exceeded")
            }
        }
        if let output = node["output"] {
            expectation.output = Matcher.decode(output, diagnostics: &diagnostics)
            expectation.outputSpan = output.span
        }
        if let stagesNode = node["stages"], let entries = mapping(stagesNode, what: "`stages`") {
            for entry in entries {
                guard let stage = key(entry), let fields = mapping(entry.value, what: "a stage's expectation") else { continue }
                checkKeys(fields, allowed: Self.stageExpectKeys, in: "a stage's expectation")
                var expected = StageExpectation(stage: stage)
                if let attempts = entry.value["attempts"] { expected.attempts = Matcher.decode(attempts, diagnostics: &diagnostics) }
                expected.model = string(entry.value["model"], key: "model")
                if let status = string(entry.value["status"], key: "status") {
                    if StageExpectation.statuses.contains(status.value) {
                        expected.status = status
                    } else {
                        diagnostics.report(.invalidValue, at: status.span, "unknown stage status `\(status.value)`",
                            hint: Suggestions.hint(for: status.value, in: StageExpectation.statuses, kind: "statuses"))
                    }
                }
                if let output = entry.value["output"] {
                    expected.output = Matcher.decode(output, diagnostics: &diagnostics)
                    expected.outputSpan = output.span
                }
                expectation.stages.append(expected)
            }
        }
        return expectation
    }

    // MARK: Typed values

    mutating func mapping(_ node: YAMLNode, what: String) -> [YAMLPair]? {
        if let pairs = node.mapping { return pairs }
        diagnostics.report(.typeMismatch, at: node.span, "\(what) must be a mapping, found \(node.kindDescription)")
        return nil
    }

    mutating func sequence(_ node: YAMLNode, what: String) -> [YAMLNode]? {
        if let items = node.sequence { return items }
        diagnostics.report(.typeMismatch, at: node.span, "\(what) must be a list, found \(node.kindDescription)",
            hint: "write each entry on a line starting with `- `")
        return nil
    }

    mutating func key(_ pair: YAMLPair) -> Located<String>? {
        guard let text = pair.key.scalar else {
            diagnostics.report(.typeMismatch, at: pair.key.span, "a key must be a name, found \(pair.key.kindDescription)")
            return nil
        }
        return Located(text, at: pair.key.span)
    }

    mutating func string(_ node: YAMLNode?, key: String) -> Located<String>? {
        guard let node else { return nil }
        guard case .scalar(let text, _) = node.kind, case .string = YAMLScalarValue(node) else {
            diagnostics.report(.typeMismatch, at: node.span, "`\(key)` must be a string, found \(node.kindDescription)")
            return nil
        }
        return Located(text, at: node.span)
    }

    mutating func checkKeys(_ pairs: [YAMLPair], allowed: [String], in context: String) {
        for pair in pairs {
            guard let key = pair.key.scalar, !allowed.contains(key) else { continue }
            diagnostics.report(.unknownKey, at: pair.key.span, "unknown key `\(key)` in \(context)",
                hint: Suggestions.hint(for: key, in: allowed, kind: "keys allowed here"))
        }
    }
}
