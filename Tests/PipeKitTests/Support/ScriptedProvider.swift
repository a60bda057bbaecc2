import Foundation
@testable import PipeKit

/// An in-process provider for scheduler tests: answers with a closure after a delay, and
/// records every call with its start and end times.
final class ScriptedProvider: ModelProvider, @unchecked Sendable {
    struct Call {
        var stage: String
        var model: String
        var messages: [ChatMessage]
        var start: ContinuousClock.Instant
        var end: ContinuousClock.Instant
    }

    typealias Answer = @Sendable (ModelRequest, Int) throws(ProviderError) -> String

    private let lock = NSLock()
    private var recorded: [Call] = []
    private var counts: [String: Int] = [:]
    let delay: Duration
    let delays: [String: Duration]
    let holds: [String: String]
    let answer: Answer

    /// - Parameters:
    ///   - delays: per stage, instead of `delay`.
    ///   - holds: a stage that does not answer until another one has been called (or 20 s
    ///     have passed): ordering checked by events, not by a busy machine's clock.
    init(delay: Duration = .zero, delays: [String: Duration] = [:], holds: [String: String] = [:], answer: @escaping Answer) {
        self.delay = delay
        self.delays = delays
        self.holds = holds
        self.answer = answer
    }

    var calls: [Call] { lock.withLock { recorded } }

    func complete(_ request: ModelRequest, progress: @escaping @Sendable (StreamProgress) -> Void)
        async throws(ProviderError) -> ModelReply
    {
        let start = ContinuousClock.now
        let number = lock.withLock { () -> Int in
            counts[request.stageName, default: 0] += 1
            return counts[request.stageName]!
        }
        let pause = delays[request.stageName] ?? delay
        if pause > .zero {
            do { try await Task.sleep(for: pause) } catch { throw .cancelled }
        }
        if let other = holds[request.stageName] {
            let deadline = ContinuousClock.now + .seconds(20)
            while lock.withLock({ counts[other] == nil }), ContinuousClock.now < deadline {
                do { try await Task.sleep(for: .milliseconds(5)) } catch { throw .cancelled }
            }
        }
        defer {
            let call = Call(stage: request.stageName, model: request.model.name, messages: request.messages, start: start, end: .now)
            lock.withLock { recorded.append(call) }
        }
        let text = try answer(request, number)
        return ModelReply(text: text, usage: TokenUsage(input: 10, output: 5))
    }
}

/// Compiles a spec given as text, failing the test on any error.
func compileSpec(_ text: String, directory: String = "/tmp") throws -> CompiledPipeline {
    let result = Compiler.compile(SourceFile(path: "test.yaml", text: text), directory: directory)
    guard let pipeline = result.pipeline else {
        throw SpecError(message: TextFormat().render([LintedFile(source: SourceFile(path: "test.yaml", text: text), diagnostics: result.diagnostics)]))
    }
    return pipeline
}

struct SpecError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

/// Runs a pipeline with one provider for every model.
func run(_ pipeline: CompiledPipeline, input: JSONValue, provider: any ModelProvider, concurrency: Int = 8,
    retryPolicy: RetryPolicy = RetryPolicy(baseDelay: .milliseconds(10))) async throws -> PipelineRunner.Result {
    let runner = try PipelineRunner(pipeline: pipeline, options: .init(concurrency: concurrency, retryPolicy: retryPolicy)) {
        _ throws(ProviderError) in provider
    }
    return await runner.run(input: input)
}
