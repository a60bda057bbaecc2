import Foundation
import Testing
@testable import PipeKit

@Suite struct SchedulerTests {
    static let models = "models: { m: { provider: mock }, backup: { provider: mock } }\ndefaults: { model: m, retries: 2 }\n"

    @Test func independentStagesRunInParallel() async throws {
        let pipeline = try compileSpec("version: 1\n\(Self.models)stages:\n"
            + (0..<4).map { "  s\($0): { prompt: \"{{ input }} \($0)\" }\n" }.joined())
        let provider = ScriptedProvider(delay: .milliseconds(200)) { _, _ in "done" }
        let result = try await run(pipeline, input: "x", provider: provider)
        guard case .succeeded = result.outcome else { Issue.record("\(result.outcome)"); return }
        let calls = provider.calls
        #expect(calls.count == 4)
        // All four overlap: each started before the first one ended.
        let firstEnd = calls.map(\.end).min()!
        #expect(calls.allSatisfy { $0.start < firstEnd })
    }

    @Test func concurrencyBoundsTheCallsInFlight() async throws {
        let pipeline = try compileSpec("version: 1\n\(Self.models)stages:\n"
            + (0..<6).map { "  s\($0): { prompt: \"{{ input }}\" }\n" }.joined())
        let provider = ScriptedProvider(delay: .milliseconds(100)) { _, _ in "done" }
        _ = try await run(pipeline, input: "x", provider: provider, concurrency: 2)
        let calls = provider.calls
        let maxInFlight = calls.map { call in calls.filter { $0.start <= call.start && $0.end > call.start }.count }.max()
        #expect(maxInFlight == 2)
    }

    @Test func aStageStartsWhenItsOwnDependenciesFinishNotLevelByLevel() async throws {
        // fast -> after-fast, and slow, which answers only once after-fast has been called:
        // a scheduler that waited for the whole level would hold after-fast until slow ended.
        let pipeline = try compileSpec("""
            version: 1
            \(Self.models)stages:
              slow: { prompt: "slow {{ input }}" }
              fast: { prompt: "fast {{ input }}" }
              after-fast: { prompt: "then {{ fast }}" }
              join: { prompt: "{{ slow }} {{ after-fast }}" }
            """)
        let provider = ScriptedProvider(holds: ["slow": "after-fast"]) { _, _ in "ok" }
        let result = try await run(pipeline, input: "x", provider: provider)
        guard case .succeeded = result.outcome else { Issue.record("\(result.outcome)"); return }
        let calls = Dictionary(uniqueKeysWithValues: provider.calls.map { ($0.stage, $0) })
        #expect(calls["after-fast"]!.start < calls["slow"]!.end)
        #expect(calls["join"]!.start >= calls["slow"]!.end)
    }

    @Test func theOriginalInputReachesAStageThreeHopsDownstream() async throws {
        let pipeline = try compileSpec("""
            version: 1
            input: { schema: { type: object, required: [topic], properties: { topic: { type: string } } } }
            \(Self.models)stages:
              a: { prompt: "start" }
              b: { prompt: "after {{ a }}" }
              c: { prompt: "after {{ b }}" }
              d: { prompt: "after {{ c }}, the topic was {{ input.topic }} and all of it {{ input }}" }
            output: "{{ d }}"
            """)
        let provider = ScriptedProvider { request, _ in "out-\(request.stageName)" }
        let result = try await run(pipeline, input: ["topic": "tides"], provider: provider)
        guard case .succeeded(let output) = result.outcome else { Issue.record("\(result.outcome)"); return }
        #expect(output == "out-d")
        let d = provider.calls.first { $0.stage == "d" }!
        #expect(d.messages.first?.text == #"after out-c, the topic was tides and all of it {"topic":"tides"}"#)
        // Context isolation: a stage sees only what its template references.
        #expect(provider.calls.first { $0.stage == "b" }?.messages.first?.text == "after out-a")
    }

    @Test func anInvalidReplyIsReaskedWithTheValidationErrors() async throws {
        let pipeline = try compileSpec("""
            version: 1
            \(Self.models)stages:
              facts:
                prompt: "facts"
                output: { schema: { type: object, required: [source], properties: { source: { type: string } } } }
            output: "{{ facts.source }}"
            """)
        let provider = ScriptedProvider { _, call in call == 1 ? #"{"sauce": "x"}"# : "```json\n{\"source\": \"paper\"}\n```" }
        let result = try await run(pipeline, input: "x", provider: provider)
        guard case .succeeded(let output) = result.outcome else { Issue.record("\(result.outcome)"); return }
        #expect(output == "paper")
        #expect(provider.calls.count == 2)
        let reask = provider.calls[1].messages
        #expect(reask.count == 3)
        #expect(reask[1] == ChatMessage(.assistant, #"{"sauce": "x"}"#))
        #expect(reask[2].text.contains(#"missing required property "source""#))
        #expect(result.stages.first?.attempts == 2)
    }

    @Test func fallbackModelsAreTriedAfterTheRetries() async throws {
        let pipeline = try compileSpec("""
            version: 1
            \(Self.models)stages:
              s:
                fallback: [backup]
                retries: 1
                prompt: "go"
                output: { schema: { type: object, required: [ok], properties: { ok: { const: true } } } }
            """)
        let provider = ScriptedProvider { request, _ in request.model.name == "backup" ? #"{"ok": true}"# : "not json at all" }
        let result = try await run(pipeline, input: "x", provider: provider)
        guard case .succeeded = result.outcome else { Issue.record("\(result.outcome)"); return }
        #expect(provider.calls.map(\.model) == ["m", "m", "backup"])
        #expect(result.stages.first?.model?.name == "backup")
    }

    @Test func aStageThatNeverGetsAValidReplyFailsTheRunNamingIt() async throws {
        let pipeline = try compileSpec("""
            version: 1
            \(Self.models)stages:
              good: { prompt: "a" }
              bad:
                prompt: "b"
                output: { schema: { type: integer } }
              after: { prompt: "{{ bad }} {{ good }}" }
            """)
        let provider = ScriptedProvider { request, _ in request.stageName == "bad" ? "\"seven\"" : "fine" }
        let result = try await run(pipeline, input: "x", provider: provider)
        guard case .stageFailed(let stage, let attempts, let error) = result.outcome else { Issue.record("\(result.outcome)"); return }
        #expect(stage == RunUnitID(stage: "bad"))
        #expect(attempts == 3)
        guard case .schemaMismatch(let model, let errors) = error else { Issue.record("\(error)"); return }
        #expect(model.name == "m")
        #expect(error.description.contains("expected integer") && errors.count == 1)
        #expect(!provider.calls.contains { $0.stage == "after" })
    }

    @Test func transientErrorsAreRetriedAndPermanentOnesFailAtOnce() async throws {
        let spec = "version: 1\n\(Self.models)stages:\n  s: { prompt: \"go\" }\n"
        let flaky = ScriptedProvider { _, call throws(ProviderError) in
            if call < 3 { throw .status(code: 503, provider: .anthropic, message: "overloaded", retryAfter: nil) }
            return "ok"
        }
        let recovered = try await run(try compileSpec(spec), input: "x", provider: flaky)
        guard case .succeeded = recovered.outcome else { Issue.record("\(recovered.outcome)"); return }
        #expect(flaky.calls.count == 3)

        let unauthorized = ScriptedProvider { _, _ throws(ProviderError) in
            throw .status(code: 401, provider: .anthropic, message: "invalid x-api-key", retryAfter: nil)
        }
        let failed = try await run(try compileSpec(spec), input: "x", provider: unauthorized)
        guard case .stageFailed(_, let attempts, let error) = failed.outcome else { Issue.record("\(failed.outcome)"); return }
        #expect(attempts == 1)
        guard case .provider(_, .status(code: 401, _, _, _)) = error else { Issue.record("\(error)"); return }
        #expect(error.description.contains("401 from anthropic: check ANTHROPIC_API_KEY"))
    }

    @Test func theTokenBudgetStopsARunBeforeTheCallThatWouldPassIt() async throws {
        let pipeline = try compileSpec("""
            version: 1
            \(Self.models)budget: { max_tokens: 1010 }
            stages:
              a: { prompt: "first", max_tokens: 1000 }
              b: { prompt: "second {{ a }}", max_tokens: 1000 }
            """)
        let provider = ScriptedProvider { _, _ in "ok" }
        let result = try await run(pipeline, input: "x", provider: provider)
        guard case .budgetExceeded(let stage, let reason) = result.outcome else { Issue.record("\(result.outcome)"); return }
        #expect(stage == RunUnitID(stage: "b"))
        guard case .budget(let exceeded) = reason else { Issue.record("\(reason)"); return }
        #expect(exceeded.stage == RunUnitID(stage: "b"))
        #expect(reason.description.contains("budget.max_tokens (1010)"))
        #expect(provider.calls.map(\.stage) == ["a"])
    }

    @Test func maxDurationBoundsTheRun() async throws {
        let pipeline = try compileSpec("version: 1\n\(Self.models)budget: { max_duration: 300ms }\nstages:\n  s: { prompt: \"go\" }\n")
        let provider = ScriptedProvider(delay: .seconds(60)) { _, _ in "late" }
        let result = try await run(pipeline, input: "x", provider: provider)
        // The deadline strikes during the call, or (on a loaded machine) before it starts.
        guard case .budgetExceeded(_, let reason) = result.outcome else { Issue.record("\(result.outcome)"); return }
        switch reason {
        case .runTimeBudget(let duration): #expect(duration == .milliseconds(300))
        case .timeBudget(let unit): #expect(unit == RunUnitID(stage: "s"))
        default: Issue.record("\(reason)")
        }
        #expect(reason.description.contains("max_duration"))
        #expect(result.wall < .seconds(30))
    }

    @Test func cancellingTheRunInterruptsTheCallsInFlight() async throws {
        let pipeline = try compileSpec("version: 1\n\(Self.models)stages:\n  s: { prompt: \"go\" }\n  t: { prompt: \"go\" }\n")
        let provider = ScriptedProvider(delay: .seconds(60)) { _, _ in "late" }
        let task = Task { try await run(pipeline, input: "x", provider: provider) }
        try await Task.sleep(for: .milliseconds(100))
        task.cancel()
        let result = try await task.value
        guard case .interrupted = result.outcome else { Issue.record("\(result.outcome)"); return }
        #expect(result.wall < .seconds(30))
    }

    @Test func outputAssemblyKeepsTypesForSingleReferences() async throws {
        let pipeline = try compileSpec("""
            version: 1
            \(Self.models)stages:
              n:
                prompt: "n"
                output: { schema: { type: object, properties: { count: { type: integer }, tags: { type: array } } } }
            output:
              count: "{{ n.count }}"
              tags: "{{ n.tags }}"
              sentence: "There are {{ n.count }} items: {{ n.tags }}"
            """)
        let provider = ScriptedProvider { _, _ in #"{"count": 3, "tags": ["a", "b"]}"# }
        let result = try await run(pipeline, input: "x", provider: provider)
        guard case .succeeded(let output) = result.outcome else { Issue.record("\(result.outcome)"); return }
        #expect(output.serialized() == #"{"count":3,"tags":["a","b"],"sentence":"There are 3 items: [\"a\",\"b\"]"}"#)
    }
}
