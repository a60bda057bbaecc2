/// What a `pipeline:` stage's child shares with the parent's run: its runner (made once with
/// the parent's, writing to the parent's journal) and the run's bound on calls.
/// A class: a unit's context refers to it (a runner is large).
final class ChildRun: Sendable {
    let runner: PipelineRunner
    /// The child's input schema, compiled.
    let input: JSONSchema?
    let calls: CallLimiter

    init(runner: PipelineRunner, input: JSONSchema?, calls: CallLimiter) {
        self.runner = runner
        self.input = input
        self.calls = calls
    }
}

/// Runs a `pipeline:` stage: renders its `input` (a template, or a mapping of templates),
/// checks it against the child's input schema, and runs the child's stages inside the
/// parent's run, through the same scheduler: the parent's budget ledger and deadline, its
/// `--concurrency`, providers (so the same rate limiters and breakers), `--mock`, and its
/// journal, where each child unit is named under this one (`team/researcher`,
/// `team[2]/researcher`). A resumed run reuses the whole stage when it finished; otherwise
/// each of the child's finished stages, by its own fingerprint.
struct PipelineStageExecutor: StageExecutor {
    let stage: PipelineStage

    func run(_ context: StageContext) async -> (StageOutcome, StageReport) {
        let start = ContinuousClock.now
        context.events(.stageStarted(unit: context.unit))
        let input = Self.input(stage.input, renderer: context.renderer)
        let fingerprint = context.journal == nil ? "" : Fingerprint.stage(context.planned.fingerprintParts, rendered: [input.serialized()])
        // The whole child's output, when the stage finished with the same child and input.
        if let earlier = await context.earlierOutput(fingerprint: fingerprint, cache: stage.cache) {
            return await context.end(.value(earlier), reused: true, model: nil, attempts: 0, since: start, fingerprint: .made(fingerprint))
        }
        guard let child = context.child else {
            return await context.end(.failed(.noAttempt), reused: false, model: nil, attempts: 0, since: start, fingerprint: .made(fingerprint))
        }
        let runner = child.runner.with(unitPrefix: context.unit.description + "/")
        if let errors = await offHTTPThread({ child.input?.validate(input, maxErrors: 20) }), !errors.isEmpty {
            return await context.end(
                .failed(.childInput(errors: errors)), reused: false, model: nil, attempts: 0, since: start, fingerprint: .made(fingerprint))
        }
        let scheduled = await runner.schedule(
            seed: ["input": input], ledger: context.ledger, calls: child.calls, deadline: context.deadline, iteration: nil,
            watchdog: false, events: context.events)
        let usage = scheduled.reports.reduce(TokenUsage.zero) { $0 + $1.usage }
        let costs = scheduled.reports.compactMap(\.costUSD)
        let attempts = scheduled.reports.reduce(0) { $0 + $1.attempts }
        let outcome: StageOutcome
        switch scheduled.outcome {
        case nil:
            outcome = scheduled.complete && !Task.isCancelled
                ? .value(OutputAssembler.assemble(stage.child.output, values: scheduled.values)) : .cancelled
        case .succeeded(let value): outcome = .value(value)
        case .stageFailed(let unit, _, let failure): outcome = .failed(.child(unit: unit, failure))
        case .budgetExceeded(_, let failure): outcome = .failed(failure)
        case .interrupted: outcome = .cancelled
        case .waitingForApproval: outcome = .failed(.noAttempt)
        }
        return await context.end(
            outcome, reused: false, model: nil, attempts: attempts, usage: usage, costUSD: costs.isEmpty ? nil : costs.reduce(0, +),
            since: start, fingerprint: .made(fingerprint))
    }

    func pending(_ context: StageContext) -> PendingApproval {
        let input = Self.input(stage.input, renderer: context.renderer)
        return PendingApproval(stage: context.stage.name, system: nil, prompt: "pipeline: \(stage.path)\ninput: " + TemplateRenderer.text(of: input))
    }

    /// What the child reads as `{{ input }}`: the parent's input without `input:`; a template
    /// rendered like a prompt (one `{{ reference }}` alone passes the value itself); a mapping,
    /// an object of its fields.
    static func input(_ input: ChildInputSpec?, renderer: TemplateRenderer) -> JSONValue {
        switch input {
        case nil: return renderer.values["input"] ?? .null
        case .template(let template): return renderer.evaluate(template)
        case .fields(let fields, _):
            return .object(JSONObject(fields.map { field in
                switch field.value {
                case .template(let template): (field.name.value, renderer.evaluate(template))
                case .literal(let value, _): (field.name.value, value)
                }
            }))
        }
    }
}
