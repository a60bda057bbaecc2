/// Why a stage (or the run, at its time budget) has no value: a typed value carried by the
/// stage's outcome, the run's result and the events; `description` is the text that stderr,
/// the store's `error` column, the trace and `--json` show.
public indirect enum StageFailure: Error, Sendable, CustomStringConvertible {
    /// No provider for a model: its API key is missing, or it cannot be made.
    case noProvider(ProviderError)
    /// The model's API failed (its last attempt, or one that retrying cannot fix).
    case provider(model: ResolvedModel, ProviderError)
    /// The reply is not the JSON value the stage needs.
    case notJSON(model: ResolvedModel, problem: String)
    /// The reply does not match the stage's output schema.
    case schemaMismatch(model: ResolvedModel, errors: [ValidationError])
    /// The call would pass `budget.max_tokens` or `budget.max_cost_usd`, or the run stopped at one.
    case budget(BudgetLedger.Exceeded)
    /// `budget.max_duration` was reached before the unit could call its model.
    case timeBudget(unit: RunUnitID)
    /// The run reached `budget.max_duration` (the watchdog stopped it).
    case runTimeBudget(maxDuration: Duration)
    /// `for_each` names a value that is not a list.
    case notAList(TemplateReference, found: String)
    /// An item of a `for_each` failed, and so does the stage.
    case itemFailed(StageFailure)
    /// A person rejected the stage (`approve: true`).
    case rejected(reason: String)
    /// The stage had no model to try.
    case noAttempt
    /// A command stage's program failed, or its output is not the stage's value.
    case command(CommandFailure)
    /// The model called tools for `turns` turns without answering (`max_turns`).
    case noAnswer(model: ResolvedModel, turns: Int)
    /// A tool server could not list its tools.
    case tool(ToolFailure)
    /// A tool the stage names is not one its server lists.
    case unknownTool(ToolReference, listed: [String])
    /// The run's tool servers could not be set up (an unset `${VAR}`, no MCP client).
    case toolSetup(ToolSetupError)
    /// A stage of a `pipeline:` stage's child failed (`unit` is its name under the parent's, `team/researcher`).
    case child(unit: RunUnitID, StageFailure)
    /// What a `pipeline:` stage passes does not match its child's input schema.
    case childInput(errors: [ValidationError])

    /// A budget stopped the stage: the run stops starting calls, but lets those in flight end.
    public var isBudget: Bool {
        switch self {
        case .budget, .timeBudget, .runTimeBudget: true
        case .child(_, let failure): failure.isBudget
        case .childInput: false
        case .noProvider, .provider, .notJSON, .schemaMismatch, .notAList, .itemFailed, .rejected, .noAttempt, .noAnswer, .tool,
            .unknownTool, .toolSetup, .command:
            false
        }
    }

    public var description: String {
        switch self {
        case .noProvider(let error): error.description
        case .provider(let model, let error): Self.on(model, error.description)
        case .notJSON(let model, let problem): Self.on(model, problem)
        case .schemaMismatch(let model, let errors):
            Self.on(
                model,
                "the reply does not match the output schema: " + errors.prefix(3).map(\.description).joined(separator: "; ")
                    + (errors.count > 3 ? "; and \(errors.count - 3) more" : ""))
        case .budget(let exceeded): exceeded.description
        case .timeBudget(let unit): "time budget: budget.max_duration was reached before stage `\(unit)` could call its model"
        case .runTimeBudget(let duration): "time budget: the run reached budget.max_duration (\(DurationFormat.short(duration)))"
        case .notAList(let reference, let found): "`for_each: \(reference)` needs a list, but the value is \(found)"
        case .itemFailed(let failure): "an item failed: \(failure)"
        case .rejected(let reason): "rejected by a person: \(reason)"
        case .noAttempt: "no attempt was made"
        case .command(let failure): failure.description
        case .noAnswer(let model, let turns): Self.on(model, "did not answer within \(turns) turn\(turns == 1 ? "" : "s") (max_turns)")
        case .tool(let failure): failure.description
        case .unknownTool(let reference, let listed):
            "tool server `\(reference.server)` has no tool `\(reference.tool ?? "")`"
                + (listed.isEmpty ? "" : "; it lists " + listed.map { "`\($0)`" }.joined(separator: ", "))
        case .toolSetup(let error): error.description
        case .child(let unit, let failure): "stage `\(unit)` of the child spec failed: \(failure)"
        case .childInput(let errors):
            "the input does not match the child spec's input schema: " + errors.prefix(3).map(\.description).joined(separator: "; ")
        }
    }

    /// `fast (claude-haiku-4-5): ...`
    private static func on(_ model: ResolvedModel, _ problem: String) -> String { "\(model.name) (\(model.model)): \(problem)" }
}

/// Why a command stage's attempt failed; `stderr` is the end of what the program wrote there.
public enum CommandFailure: Error, Sendable, CustomStringConvertible {
    /// It could not be started (not found, not executable).
    case spawn(String)
    /// `env:` names a variable that is not set in pipe's environment.
    case unsetVariable(name: String, stage: String)
    case exited(code: Int32, stderr: String)
    case signalled(name: String, stderr: String)
    case timedOut(after: Duration, stderr: String)
    /// stdout was longer than the limit.
    case stdoutTooLong(limit: Int)
    case notJSON(problem: String)
    case schemaMismatch(errors: [ValidationError])

    public var description: String {
        switch self {
        case .spawn(let problem): "command: \(problem)"
        case .unsetVariable(let name, let stage):
            "command: `env` of stage `\(stage)` passes `${\(name)}`, which is not set in pipe's environment"
        case .exited(let code, let stderr): "command: exit \(code)" + Self.tail(stderr)
        case .signalled(let name, let stderr): "command: killed by \(name)" + Self.tail(stderr)
        case .timedOut(let after, let stderr):
            "command: timed out after \(DurationFormat.short(after)); its process group was killed" + Self.tail(stderr)
        case .stdoutTooLong(let limit): "command: stdout is longer than \(limit / (1 << 20)) MiB; the command was killed"
        case .notJSON(let problem): "command: stdout is not JSON: \(problem)"
        case .schemaMismatch(let errors):
            "command: stdout does not match the output schema: " + errors.prefix(3).map(\.description).joined(separator: "; ")
                + (errors.count > 3 ? "; and \(errors.count - 3) more" : "")
        }
    }

    private static func tail(_ stderr: String) -> String {
        let trimmed = stderr.trimmingSpaces
        return trimmed.isEmpty ? "" : "; stderr: " + trimmed
    }
}

/// How one run of a stage (a unit) ended.
enum StageOutcome: Sendable {
    case value(JSONValue)
    case failed(StageFailure)
    case cancelled
    /// `approve: true` and nobody has approved it yet.
    case waiting(PendingApproval)
    /// `when:` did not hold, or a loop ended before the stage ran: no value.
    case skipped

    /// The status of the stage's report; `reused` for a value taken from the run being resumed.
    func status(reused: Bool) -> StageReport.Status {
        switch self {
        case .value: reused ? .reused : .succeeded
        case .cancelled: .cancelled
        case .failed: .failed
        case .waiting: .waiting
        case .skipped: .skipped
        }
    }

    /// Why the stage has no value, when it failed.
    var failure: StageFailure? {
        if case .failed(let failure) = self { return failure }
        return nil
    }
}
