import FakeLLM
import Foundation
import Testing
@testable import PipeKit

/// Run-unit ids, typed stage failures, and the wrappers (`when`, `approve`, `for_each`)
/// composed around a stage's kind.
@Suite struct StageKindsTests {
    static let units: [(RunUnitID, String)] = [
        (RunUnitID(stage: "writer"), "writer"),
        (RunUnitID(stage: "writer", iteration: 2), "writer@2"),
        (RunUnitID(stage: "investigate", item: 3), "investigate[3]"),
        (RunUnitID(stage: "investigate", iteration: 2, item: 0), "investigate@2[0]"),
        (RunUnitID(stage: "a_b-c", iteration: 10, item: 12), "a_b-c@10[12]"),
    ]

    @Test func aRunUnitReadsAsTodaysTextAndBackFromIt() {
        for (unit, text) in Self.units {
            #expect(unit.description == text)
            #expect(RunUnitID(text) == unit, "\(text)")
        }
        #expect(RunUnitID(stage: "investigate", iteration: 2).item(3).description == "investigate@2[3]")
        for text in ["", "@2", "[1]", "a@", "a@0", "a@x", "a[x]", "a[-1]", "a[1]@2", "a@2@3", "a[1][2]", "a]"] {
            #expect(RunUnitID(text) == nil, "\(text)")
        }
    }

    /// A stage shares its fields with its copies until one of them changes (`CopyOnWrite`):
    /// a copy that `--mock`, `pipe test` or a provider batch changes leaves the pipeline, and
    /// the spec, it came from as they were.
    @Test func aChangedCopyOfAStageLeavesTheStageItCameFromAsItWas() throws {
        let pipeline = try compileSpec("""
            version: 1
            models: { m: { provider: mock } }
            defaults: { model: m }
            stages:
              a: { prompt: "p" }
              b: { prompt: "{{ a }}" }
            """)
        var copy = pipeline
        copy.stages[1].approve = true
        copy.stages[1].dependencies.append("c")
        copy.stages[1].name = "c"
        #expect(copy.stages.map(\.name) == ["a", "c"] && copy.stages[1].approve && copy.stages[1].dependencies == ["a", "c"])
        #expect(pipeline.stages.map(\.name) == ["a", "b"] && !pipeline.stages[1].approve && pipeline.stages[1].dependencies == ["a"])

        let span = Span.fileStart("test.yaml")
        var stage = StageSpec(name: Located("a", at: span), span: span)
        stage.needs = [Located("x", at: span)]
        let kept = stage
        stage.needs.append(Located("y", at: span))
        stage.settings.maxTokens = Located(5, at: span)
        #expect(kept.needs.map(\.value) == ["x"] && kept.settings.maxTokens == nil)
        #expect(stage.needs.map(\.value) == ["x", "y"] && stage.settings.maxTokens?.value == 5)
    }

    static let model = ResolvedModel(name: "fast", provider: .anthropic, model: "claude-test", baseURL: nil, apiKeyEnv: nil, price: nil)

    @Test func eachStageFailureSaysWhatWentWrongInTodaysWords() throws {
        let errors = try JSONSchema(compiling: ["type": "integer"]).validate("seven", maxErrors: 20)
        let many = try JSONSchema(compiling: ["type": "object", "required": ["a", "b", "c", "d", "e"]]).validate([:], maxErrors: 20)
        let exceeded = BudgetLedger.Exceeded(stage: RunUnitID(stage: "b", item: 1), description: "token budget: too much")
        let reference = try #require(compileSpec("""
            version: 1
            models: { m: { provider: mock } }
            defaults: { model: m }
            stages:
              plan: { prompt: "p", output: { schema: { type: array } } }
              work: { for_each: plan, prompt: "w {{ item }}" }
            """).stage(named: "work")?.forEach?.reference)
        let cases: [(StageFailure, String)] = [
            (.provider(model: Self.model, .status(code: 500, provider: .anthropic, message: "boom", retryAfter: nil)),
             "fast (claude-test): " + ProviderError.status(code: 500, provider: .anthropic, message: "boom", retryAfter: nil).description),
            (.notJSON(model: Self.model, problem: "the reply is empty"), "fast (claude-test): the reply is empty"),
            (.schemaMismatch(model: Self.model, errors: errors),
             "fast (claude-test): the reply does not match the output schema: \(errors[0])"),
            (.schemaMismatch(model: Self.model, errors: many),
             "fast (claude-test): the reply does not match the output schema: "
                + many.prefix(3).map(\.description).joined(separator: "; ") + "; and \(many.count - 3) more"),
            (.budget(exceeded), "token budget: too much"),
            (.timeBudget(unit: RunUnitID(stage: "w", iteration: 2)),
             "time budget: budget.max_duration was reached before stage `w@2` could call its model"),
            (.runTimeBudget(maxDuration: .milliseconds(300)), "time budget: the run reached budget.max_duration (300ms)"),
            (.notAList(reference, found: "a string"), "`for_each: plan` needs a list, but the value is a string"),
            (.itemFailed(.notJSON(model: Self.model, problem: "x")), "an item failed: fast (claude-test): x"),
            (.rejected(reason: "too much"), "rejected by a person: too much"),
            (.noAttempt, "no attempt was made"),
        ]
        #expect(many.count == 5)
        for (failure, text) in cases {
            #expect(failure.description == text)
        }
        #expect(cases.filter { $0.0.isBudget }.count == 3)
    }

    // MARK: - Wrappers around a kind

    /// Every model is the mock, with no retries.
    static let mockModels = "version: 1\nmodels: { m: { provider: mock } }\ndefaults: { model: m, retries: 0 }\n"

    static let fanOut = """
        \(mockModels)stages:
          plan:
            prompt: "plan"
            output: { schema: { type: object, required: [go, items], properties: { go: { type: boolean }, items: { type: array, items: { type: string } } } } }
          work:
            when: plan.go
            approve: true
            for_each: plan.items
            prompt: "work on {{ item }}"
        """

    /// Runs `fanOut` with `plan` answering `go`; returns the result and the units called.
    func runFanOut(go: Bool, approval: ApprovalPolicy) async throws -> (PipelineRunner.Result, [RunUnitID]) {
        let units = Locked<[RunUnitID]>([])
        let provider = ScriptedProvider { request, _ in
            units.withLock { $0.append(request.unit) }
            return request.stageName == "plan" ? #"{"go": \#(go), "items": ["a", "b"]}"# : "done \(request.messages[0].text)"
        }
        let pipeline = try compileSpec(Self.fanOut)
        let runner = try PipelineRunner(pipeline: pipeline, options: .init(approval: approval)) { _ throws(ProviderError) in provider }
        let result = await runner.run(input: "x")
        return (result, units.withLock { $0 }.sorted { $0.description < $1.description })
    }

    @Test func aWhenThatDoesNotHoldSkipsAnApprovedFanOutBeforeAnyoneIsAsked() async throws {
        let asked = Locked(0)
        let approval = ApprovalPolicy { _ in
            asked.withLock { $0 += 1 }
            return .approve
        }
        let (result, units) = try await runFanOut(go: false, approval: approval)
        guard case .succeeded(let output) = result.outcome else { Issue.record("\(result.outcome)"); return }
        #expect(output["work"] == .null)
        #expect(units == [RunUnitID(stage: "plan")])
        #expect(asked.withLock { $0 } == 0)
        #expect(result.stages.map(\.stage) == ["plan", "work"])
        #expect(result.stages.last?.status == .skipped)
    }

    @Test func anApprovedFanOutRunsEachItemAsAUnitOfItsOwn() async throws {
        let (result, units) = try await runFanOut(go: true, approval: ApprovalPolicy(approved: ["work"]))
        guard case .succeeded(let output) = result.outcome else { Issue.record("\(result.outcome)"); return }
        #expect(output["work"] == ["done work on a", "done work on b"])
        #expect(units == [RunUnitID(stage: "plan"), RunUnitID(stage: "work", item: 0), RunUnitID(stage: "work", item: 1)])
        let work = try #require(result.stages.last)
        #expect(work.stage == "work" && work.status == .succeeded && work.attempts == 2)
    }

    @Test func aFanOutWaitingForApprovalOrRejectedCallsNoItem() async throws {
        let (waiting, waitingUnits) = try await runFanOut(go: true, approval: ApprovalPolicy())
        guard case .waitingForApproval(let pending) = waiting.outcome else { Issue.record("\(waiting.outcome)"); return }
        #expect(pending.map(\.stage) == ["work"])
        #expect(waitingUnits == [RunUnitID(stage: "plan")])

        let (rejected, rejectedUnits) = try await runFanOut(go: true, approval: ApprovalPolicy { _ in .reject(reason: "not today") })
        guard case .stageFailed(let unit, let attempts, let failure) = rejected.outcome else { Issue.record("\(rejected.outcome)"); return }
        #expect(unit == RunUnitID(stage: "work") && attempts == 0)
        guard case .rejected(let reason) = failure else { Issue.record("\(failure)"); return }
        #expect(reason == "not today")
        #expect(rejectedUnits == [RunUnitID(stage: "plan")])
        #expect(rejected.stages.last?.error == "rejected: not today")
    }

    @Test func insideALoopEachIterationsUnitsAreSkippedOrFannedOutByTheirOwnValues() async throws {
        let pipeline = try compileSpec("""
            \(Self.mockModels)stages:
              writer:
                prompt: "write"
                output: { schema: { type: object, required: [parts, long], properties: { parts: { type: array, items: { type: string } }, long: { type: boolean } } } }
              polish:
                when: writer.long
                for_each: writer.parts
                prompt: "polish {{ item }}"
              critic:
                prompt: "judge {{ polish ?? 'nothing' }}"
                output: { schema: { type: object, required: [score], properties: { score: { type: integer } } } }
                loop: { from: writer, until: critic.score >= 8, max_iterations: 2 }
            """)
        let provider = ScriptedProvider { request, call in
            switch request.stageName {
            case "writer": #"{"parts": ["a", "b"], "long": \#(call == 2)}"#
            case "critic": #"{"score": \#(call == 1 ? 3 : 9)}"#
            default: "polished \(request.unit)"
            }
        }
        let finished = Locked<[String]>([])
        let runner = try PipelineRunner(pipeline: pipeline) { _ throws(ProviderError) in provider }
        let result = await runner.run(input: "x") { event in
            if case .stageFinished(let report) = event { finished.withLock { $0.append("\(report.unit) \(report.status)") } }
        }
        guard case .succeeded(let output) = result.outcome else { Issue.record("\(result.outcome)"); return }
        #expect(output["critic"] == ["score": 9])
        #expect(result.values["polish"] == ["polished polish@2[0]", "polished polish@2[1]"])
        let ended = finished.withLock { $0 }
        #expect(ended.contains("polish@1 skipped"))
        #expect(ended.contains("polish@2[0] succeeded") && ended.contains("polish@2[1] succeeded"))
        #expect(!ended.contains { $0.hasPrefix("polish@1[") })
        #expect(ended.contains("critic@2 succeeded"))
    }

    // MARK: - Failures at the edge

    static let structured = """
        version: 1
        models: { claude: { provider: anthropic, model: claude-test } }
        defaults: { model: claude, retries: 1 }
        stages:
          plan:
            prompt: "STAGE plan: {{ input }}"
            output: { schema: { type: object, required: [steps], properties: { steps: { type: array } } } }
        """

    /// The reply, and the failure it makes of the stage (as the library says it).
    static func failures() throws -> [(reply: String, failure: StageFailure)] {
        let model = try compileSpec(structured).stages[0].models[0]
        let notJSON = "no json here"
        guard case .failure(let problem) = ReplyParser.value(of: notJSON, structured: true) else { return [] }
        let schema = try JSONSchema(compiling: try JSONParser.parse(#"{"type": "object", "required": ["steps"], "properties": {"steps": {"type": "array"}}}"#))
        return [
            (notJSON, .notJSON(model: model, problem: problem.message)),
            (#"{"steps": 3}"#, .schemaMismatch(model: model, errors: schema.validate(["steps": 3], maxErrors: 20))),
        ]
    }

    @Test func aStageFailureReachesStderrAndTheRunStoreInTheSameWords() async throws {
        let failures = try Self.failures()
        #expect(failures.count == 2)
        for (reply, failure) in failures {
            let folder = try TemporaryFolder("pipe-failure")
            let spec = folder.url.appendingPathComponent("plan.yaml").path
            try Self.structured.write(toFile: spec, atomically: true, encoding: .utf8)
            let server = FakeLLMServer { _ in .text(reply) }
            try server.start()
            defer { server.stop() }
            let result = try await runPipe(
                ["run", spec, "--quiet"], stdin: "tides",
                environment: ["PATH": "/usr/bin:/bin", "ANTHROPIC_BASE_URL": server.baseURL, "ANTHROPIC_API_KEY": "k"])
            #expect(result.status == 1)
            let message = "stage `plan` failed after 2 attempts: \(failure)"
            #expect(result.stderr.hasPrefix("pipe: \(message)\n"), "\(result.stderr)")
            let store = try RunStore(path: folder.storePath)
            let run = try #require(try await store.runs(limit: 1, specPath: nil).first)
            let detail = try #require(try await store.run(run.id))
            #expect(detail.row.error == message)
            #expect(detail.stages.map(\.error) == [failure.description])
            #expect(server.requestCount == 2)
        }
    }
}
