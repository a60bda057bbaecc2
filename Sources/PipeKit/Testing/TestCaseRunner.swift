/// How one case ended: passed, or the expectations it missed (each "expected vs actual at
/// a path"), and how long it took.
public struct TestCaseResult: Sendable {
    public var name: String
    /// Why it failed: each a line, `output.article: expected ..., found ...`.
    public var failures: [String]
    public var duration: Duration
    /// The exit status `pipe run` would have had.
    public var exit: Int

    public var passed: Bool { failures.isEmpty }
}

/// Runs a test case offline: the spec's stages answered by the case's `mocks:` in turn,
/// then by its `replay:` cassette or the mock provider; retries, re-asks and fallbacks are
/// the runtime's own, with no pause between attempts; no call leaves the process.
public struct TestCaseRunner: Sendable {
    public let pipeline: CompiledPipeline
    /// The test file's directory: where `given:` files and `replay:` cassettes are.
    public let directory: String

    public init(pipeline: CompiledPipeline, directory: String) {
        self.pipeline = pipeline
        self.directory = directory
    }

    /// Cases run at once by `run(_:)` of a file's cases.
    public static let concurrency = 4

    /// Runs a file's cases, up to `concurrency` at once (each is independent: its own
    /// providers, runner and cassette, nothing shared, no socket), the results in file order.
    public func run(_ cases: [TestCase], concurrency: Int = TestCaseRunner.concurrency) async -> [TestCaseResult] {
        await withTaskGroup(of: (Int, TestCaseResult).self) { group in
            var results: [TestCaseResult?] = Array(repeating: nil, count: cases.count)
            var next = cases.enumerated().makeIterator()
            func add() {
                guard let (index, testCase) = next.next() else { return }
                group.addTask { (index, await run(testCase)) }
            }
            for _ in 0..<max(1, concurrency) { add() }
            while let (index, result) = await group.next() {
                results[index] = result
                add()
            }
            return results.compactMap { $0 }
        }
    }

    /// Runs the case and checks its expectations.
    public func run(_ testCase: TestCase) async -> TestCaseResult {
        let clock = ContinuousClock()
        let start = clock.now
        var failures: [String] = []
        let exit: Int
        do throws(CaseSetupError) {
            let result = try await execute(testCase)
            exit = Self.exitStatus(result.outcome)
            failures = check(testCase, result, exit: exit)
        } catch {
            exit = 2
            failures = [error.description]
        }
        return TestCaseResult(name: testCase.name.value, failures: failures, duration: clock.now - start, exit: exit)
    }

    /// Why a case could not run at all.
    struct CaseSetupError: Error, CustomStringConvertible {
        var description: String
    }

    private func execute(_ testCase: TestCase) async throws(CaseSetupError) -> PipelineRunner.Result {
        // A replayed case keeps its stages' tools: their lists and results come from the cassette.
        var pipeline = testCase.replay == nil ? self.pipeline.mocked() : self.pipeline
        var given: [String: JSONValue] = [:]
        if let stage = testCase.stage {
            guard let alone = pipeline.only(stage.value) else {
                throw CaseSetupError(description: "\(stage.span): the spec has no stage `\(stage.value)`")
            }
            pipeline = alone
            for value in testCase.given {
                given[value.stage.value] = try read(value)
            }
        }
        // A command stage's mock values answer instead of its program (`--mock`).
        var scripts: [String: [MockAnswer]] = [:]
        for mock in testCase.mocks {
            scripts[mock.stage.value] = mock.answers
            guard let index = pipeline.stages.firstIndex(where: { $0.name == mock.stage.value }),
                case .command(var command) = pipeline.stages[index].kind
            else { continue }
            command.mockReplies = mock.answers.compactMap { answer in
                if case .value(let value, _) = answer { return value }
                return nil
            }
            pipeline.stages[index].kind = .command(command)
        }
        let fallback: any ModelProvider
        var tools: ReplayToolServers?
        if let replay = testCase.replay {
            do {
                let replayed = try ReplayProvider(reading: Self.resolve(replay.value, in: directory))
                (fallback, tools) = (replayed, replayed.tools)
            } catch {
                throw CaseSetupError(description: "\(replay.span): \(error)")
            }
        } else {
            fallback = MockProvider(replies: pipeline.mockReplies)
        }
        let provider = CaseProvider(scripts: scripts, fallback: fallback)
        var options = PipelineRunner.Options(
            concurrency: 8, retryPolicy: RetryPolicy(baseDelay: .zero, maxDelay: .zero),
            approval: ApprovalPolicy(approved: [], approveAll: true, ask: nil))
        options.mockCommands = true
        options.given = given
        // A replayed case's tool stages get their tool lists and results from the cassette.
        if let tools { options.toolServers = { _ in tools } }
        let runner: PipelineRunner
        do {
            runner = try PipelineRunner(pipeline: pipeline, options: options) { _ throws(ProviderError) in provider }
        } catch {
            throw CaseSetupError(description: "an output schema cannot be compiled: \(error)")
        }
        return await runner.run(input: input(testCase))
    }

    /// The case's input, or one the mock provider makes from the input schema.
    func input(_ testCase: TestCase) -> JSONValue {
        if let input = testCase.input { return input }
        guard let schema = pipeline.inputSchema else { return "test input" }
        return MockValueGenerator(schema: schema).value()
    }

    /// A `given:` value: inline, or a JSON file beside the test file.
    func read(_ value: GivenValue) throws(CaseSetupError) -> JSONValue {
        switch value.source {
        case .value(let json): return json
        case .file(let path):
            do {
                return try JSONParser.parse(BoundedRead.file(Self.resolve(path, in: directory), limit: ReadLimits.document))
            } catch {
                throw CaseSetupError(description: "\(value.span): given `\(value.stage.value)`: cannot read \(path): \(error)")
            }
        }
    }

    static func resolve(_ path: String, in directory: String) -> String {
        path.hasPrefix("/") || directory.isEmpty || directory == "." ? path : directory + "/" + path
    }

    /// The exit status `pipe run` ends with for an outcome.
    public static func exitStatus(_ outcome: PipelineRunner.Result.Outcome) -> Int {
        switch outcome {
        case .succeeded: 0
        case .stageFailed: 1
        case .budgetExceeded: 4
        case .waitingForApproval: 5
        case .interrupted: 130
        }
    }

    // MARK: Expectations

    func check(_ testCase: TestCase, _ result: PipelineRunner.Result, exit: Int) -> [String] {
        var failures: [String] = []
        let expected = testCase.expect
        let wantedExit = expected.exit?.value ?? 0
        if exit != wantedExit {
            var why = ""
            switch result.outcome {
            case .stageFailed(let stage, let attempts, let failure):
                why = " (stage `\(stage)` failed after \(attempts) attempt\(attempts == 1 ? "" : "s"): \(failure))"
            case .budgetExceeded(_, let failure): why = " (\(failure))"
            case .succeeded, .interrupted, .waitingForApproval: break
            }
            failures.append("exit: expected \(wantedExit), found \(exit)\(why)")
        }
        if let matcher = expected.output {
            if case .succeeded(let output) = result.outcome {
                failures += matcher.check(output, path: "output").map(\.description)
            } else {
                failures.append("output: expected \(Self.describe(matcher)), found no output (exit \(exit))")
            }
        }
        for stage in expected.stages {
            let name = stage.stage.value
            let report = result.stages.last { $0.unit.stage == name && $0.unit.item == nil }
            let path = "stages.\(name)"
            if let status = stage.status?.value {
                let found = report?.status.rawValue ?? "not-run"
                if status != found { failures.append("\(path).status: expected \(status), found \(found)") }
            }
            if let attempts = stage.attempts {
                let found = report.map { JSONValue.number(JSONNumber($0.attempts)) }
                failures += attempts.check(found, path: "\(path).attempts").map(\.description)
            }
            if let model = stage.model?.value {
                let found = report?.model?.name
                if found != model { failures.append("\(path).model: expected \(model), found \(found ?? "no model")") }
            }
            if let matcher = stage.output {
                failures += matcher.check(result.values[name], path: "\(path).output").map(\.description)
            }
        }
        return failures
    }

    static func describe(_ matcher: Matcher) -> String {
        switch matcher {
        case .at(_, let inner): describe(inner)
        case .equals(let value): Matcher.show(value)
        default: "a value that matches"
        }
    }
}
