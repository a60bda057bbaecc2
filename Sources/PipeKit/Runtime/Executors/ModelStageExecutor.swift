/// Runs a model stage: renders its prompt, calls its model, validates the reply, re-asks
/// with the validation errors, retries transient failures with backoff, then tries each
/// fallback model. Downstream stages only ever receive a schema-valid value.
/// A class, made once per runner (`PipelineRunner.PlannedStage`): each unit's run refers to it.
final class ModelStageExecutor: StageExecutor {
    let stage: ModelStage
    /// What the attempt loop reads, as plain values (no copy of the stage in its frame).
    let models: Int
    let retries: Int
    let maxTurns: Int

    init(stage: ModelStage) {
        self.stage = stage
        models = 1 + stage.fallbacks.count
        retries = stage.retries
        maxTurns = stage.maxTurns
    }

    func run(_ context: StageContext) async -> (StageOutcome, StageReport) {
        await Run(self, context: context).run()
    }

    func pending(_ context: StageContext) -> PendingApproval {
        PendingApproval(
            stage: context.stage.name, system: stage.system.map(context.renderer.render),
            prompt: context.renderer.render(stage.prompt))
    }
}

/// One unit's run of a model stage. A class, and its attempt loop cut into small async steps
/// whose values live here: the frames of the steps waiting for a call are what every waiting
/// unit holds (thousands at once under `pipe batch --provider-batch`, BENCHMARKS), so they hold
/// a reference and the call, not the loop's state and temporaries. Used by one task only.
private final class Run {
    let executor: ModelStageExecutor
    let context: StageContext

    var stage: ModelStage { executor.stage }
    var unit: RunUnitID { context.unit }
    var validator: JSONSchema? { context.validator }
    var ledger: BudgetLedger { context.ledger }
    var deadline: ContinuousClock.Instant? { context.deadline }
    var journal: (any RunJournal)? { context.journal }
    var events: @Sendable (RunEvent) -> Void { context.events }
    /// Reuse replies of identical earlier calls.
    var cache: Bool { stage.cache || context.cacheEverything }

    // The stage's attempts, for its report.
    var attempts = 0
    var usage = TokenUsage.zero
    var totalCost: Double?
    var model: ResolvedModel
    var reused = false
    var system: String?
    var prompt = ""
    var fingerprint: StageFingerprint?

    // The attempts' state.
    var lastError = StageFailure.noAttempt
    /// The tools, listed once for the unit and offered every turn of every attempt.
    var tools: ToolTurns?
    var definitions: [ToolDefinition] = []
    var schemaCharacters = 0
    var provider: (any ModelProvider)?
    /// What the next attempt sends: the prompt, then the re-asks.
    var messages: [ChatMessage] = []
    var retry = 0

    // The attempt's state: its turns (each reply that calls tools gets their results, until the
    // model answers or `max_turns` is reached).
    var conversation: [ChatMessage] = []
    var reply: ModelReply?
    var request: ModelRequest?
    /// The turn's call, once made.
    var pending: Call?
    var cacheKey: String?
    var callStart = ContinuousClock.now
    var cost: Double?
    var turn = 0
    var circuitNotes: [String] = []

    init(_ executor: ModelStageExecutor, context: StageContext) {
        self.executor = executor
        self.context = context
        self.model = executor.stage.model
    }

    /// One call: the model's provider and the request. The frame that waits for the reply holds
    /// a reference to it, not a copy of the request.
    final class Call: @unchecked Sendable {
        let provider: any ModelProvider
        let request: ModelRequest
        /// The reply or the failure, once `send` returned (only the unit's task reads and writes it).
        var result: Result<ModelReply, ProviderError>?

        init(provider: any ModelProvider, request: ModelRequest) {
            self.provider = provider
            self.request = request
        }

        @inline(never)
        func send(progress: @escaping @Sendable (StreamProgress) -> Void) async {
            do {
                let reply = try await provider.complete(request, progress: progress)
                took(reply)
            } catch {
                failed(error)
            }
        }

        @inline(never)
        private func took(_ reply: ModelReply) {
            result = .success(reply)
        }

        @inline(never)
        private func failed(_ error: ProviderError) {
            result = .failure(error)
        }
    }

    /// How a turn ended: an answer, another turn, the next attempt, the next model, or the
    /// unit's end (its `outcome` set).
    private enum Step {
        case answered
        case nextTurn
        case nextAttempt
        case nextModel
        case end
    }

    /// Ends the unit with `outcome`.
    private func end(_ outcome: StageOutcome) -> Step {
        self.outcome = outcome
        return .end
    }

    /// Ends the unit with `outcome` when there is one (true).
    private func ends(_ outcome: StageOutcome?) -> Bool {
        guard let outcome else { return false }
        self.outcome = outcome
        return true
    }

    /// When the unit started, and how it ended: kept here, not in the frames that wait.
    var start = ContinuousClock.now
    var outcome = StageOutcome.cancelled

    func run() async -> (StageOutcome, StageReport) {
        begin()
        await decide()
        return await finish()
    }

    /// The unit's outcome: its value in the run being resumed, or its attempts'.
    @inline(never)
    private func decide() async {
        if let earlier = await reusable() {
            reused = true
            outcome = .value(earlier)
        } else {
            await attempt()
        }
    }

    @inline(never)
    private func finish() async -> (StageOutcome, StageReport) {
        await context.end(
            outcome, reused: reused, model: model, attempts: attempts, usage: usage, costUSD: totalCost, since: start,
            fingerprint: fingerprint)
    }

    @inline(never)
    private func begin() {
        start = .now
        events(.stageStarted(unit: unit))
        system = stage.system.map(context.renderer.render)
        prompt = context.renderer.render(stage.prompt)
        // Fingerprints and cache keys only matter to a journal, and a stage's fingerprint before
        // the stage ends only to one that resumes a run: else it is made where it is recorded.
        if let journal {
            let rendered = [system ?? "-", prompt]
            fingerprint = journal.resumes ? .made(Fingerprint.stage(context.planned.fingerprintParts, rendered: rendered)) : .later(context.planned, rendered: rendered)
        }
    }

    /// The value the run being resumed recorded for this unit, if it is still valid.
    @inline(never)
    private func reusable() async -> JSONValue? {
        guard let journal, case .made(let fingerprint) = fingerprint,
            let earlier = await journal.reusableOutput(stage: unit.description, fingerprint: fingerprint)
        else {
            return nil
        }
        let validator = validator
        return await offHTTPThread({ validator?.isValid(earlier) ?? (earlier.stringValue != nil) }) ? earlier : nil
    }

    /// The attempts, on each model in turn, until one ends the unit (its `outcome`).
    @inline(never)
    private func attempt() async {
        if await offerTools() { return }
        let (models, retries, maxTurns) = (executor.models, executor.retries, executor.maxTurns)
        for index in 0..<models {
            if startModel(index) { return }
            attempts: for retry in 0...retries {
                self.retry = retry
                if startAttempt() { return }
                turns: repeat {
                    switch await turn() {
                    case .answered: break turns
                    case .nextTurn: continue turns
                    case .nextAttempt: continue attempts
                    case .nextModel: break attempts
                    case .end: return
                    }
                } while turn < maxTurns
                if await answer() { return }
            }
        }
        outcome = .failed(lastError)
    }

    /// Lists the stage's tools (once for the unit); true, the unit ended, when they cannot be.
    @inline(never)
    private func offerTools() async -> Bool {
        if !stage.tools.isEmpty {
            guard let servers = context.toolServers else { return ends(.failed(.toolSetup(.unavailable))) }
            do {
                tools = try await ToolTurns.offer(
                    stage.tools, from: servers, avoiding: ProviderNames.sanitized(context.stage.name), timeout: stage.timeout)
            } catch {
                return ends(.failed(error))
            }
        }
        definitions = tools?.definitions ?? []
        // Providers send the schema as a tool or a response format, and the tools: input too.
        schemaCharacters = WorstCase.schemaCharacters(context.stage.outputSchema)
            + definitions.reduce(0) { $0 + $1.json.serialized().utf8.count }
        return false
    }

    /// Goes to model `index` (the stage's, then its fallbacks); true, the unit ended, when it
    /// has no provider.
    @inline(never)
    private func startModel(_ index: Int) -> Bool {
        let next = index == 0 ? stage.model : stage.fallbacks[index - 1]
        if index > 0 {
            events(.fallingBack(unit: unit, from: model, to: next, reason: lastError))
        }
        model = next
        do {
            provider = try context.resolveProvider(next)
        } catch {
            return ends(.failed(.noProvider(error)))
        }
        messages = [ChatMessage(.user, prompt)]
        return false
    }

    /// Starts an attempt; true, the unit ended, when it may not (cancelled, out of time).
    @inline(never)
    private func startAttempt() -> Bool {
        if Task.isCancelled { return ends(.cancelled) }
        if let deadline, ContinuousClock.now >= deadline {
            return ends(.failed(.timeBudget(unit: unit)))
        }
        attempts += 1
        events(.attemptStarted(unit: unit, attempt: attempts, model: model))
        conversation = messages
        reply = nil
        request = nil
        pending = nil
        cacheKey = nil
        cost = nil
        turn = 0
        circuitNotes = []
        return false
    }

    /// One turn: the request, from the cache or the model, within the budget.
    @inline(never)
    private func turn() async -> Step {
        if let stop = prepareTurn() { return end(stop) }
        if cacheKey != nil, let outcome = await cached() { return end(outcome) }
        let reservation: BudgetLedger.Reservation
        switch reserve() {
        case .success(let made): reservation = made
        case .failure(let error): return end(.failed(.budget(error)))
        }
        guard let pending else { return end(.cancelled) }
        // What the model's circuit breaker did to the call, for its record.
        let circuit = Locked<[CircuitEvent]>([])
        await pending.send(progress: progress(into: circuit))
        return await replied(pending, reservation: reservation, circuit: circuit)
    }

    /// The call's reply or failure, taken in.
    @inline(never)
    private func replied(_ call: Call, reservation: BudgetLedger.Reservation, circuit: Locked<[CircuitEvent]>) async -> Step {
        switch call.result {
        case .success(let reply)?: return await answered(reply, reservation: reservation, circuit: circuit)
        case .failure(let error)?: return await failed(error, reservation: reservation, circuit: circuit)
        case nil: return end(.cancelled)
        }
    }

    /// What the call's progress tells the run's events (and its circuit breaker's notes).
    @inline(never)
    private func progress(into circuit: Locked<[CircuitEvent]>) -> @Sendable (StreamProgress) -> Void {
        let (name, model, events) = (unit, model, events)
        return { progress in
            switch progress {
            case .received(let characters): events(.streaming(unit: name, characters: characters))
            case .rateLimit(let wait): events(.rateLimit(unit: name, model: model, wait))
            case .circuit(let event):
                circuit.withLock { $0.append(event) }
                events(.circuit(unit: name, model: model, event))
            }
        }
    }

    /// The turn's request; how the unit ends when it is out of time.
    @inline(never)
    private func prepareTurn() -> StageOutcome? {
        turn += 1
        if turn > 1, let deadline, ContinuousClock.now >= deadline { return .failed(.timeBudget(unit: unit)) }
        var request = ModelRequest(
            model: model, system: system, messages: conversation, outputSchema: context.stage.outputSchema,
            stageName: context.stage.name, maxTokens: stage.maxTokens, temperature: stage.temperature, timeout: stage.timeout,
            unit: unit, tools: definitions)
        request.liveProgress = context.liveProgress
        self.request = request
        pending = provider.map { Call(provider: $0, request: request) }
        // Made here only to look the cache up; the journal makes it for the record
        // otherwise (`CallRecord.cacheKey`), off this thread.
        // A stage with tools is not answered from the cache: its turns act on the world.
        cacheKey = cache && tools == nil && journal != nil ? Fingerprint.call(request) : nil
        callStart = ContinuousClock.now
        return nil
    }

    /// A valid reply to the same request, recorded by an earlier run.
    @inline(never)
    private func cached() async -> StageOutcome? {
        guard let journal, let cacheKey, let request, let cached = await journal.cachedReply(key: cacheKey) else { return nil }
        guard case .value(let value) = await check(cached.answerText) else { return nil }
        await record(request, model: model, attempt: attempts, reply: cached.answerText, status: .cached,
            problems: [], usage: .zero, cost: nil, since: callStart, key: cacheKey)
        return .value(value)
    }

    @inline(never)
    private func reserve() -> Result<BudgetLedger.Reservation, BudgetLedger.Exceeded> {
        guard let request else { return .success(BudgetLedger.Reservation(tokens: 0, cost: 0)) }
        do {
            return .success(try ledger.reserve(
                stage: unit, inputTokens: request.inputTokenEstimate(schemaCharacters: schemaCharacters),
                maxOutputTokens: stage.maxTokens, price: model.price))
        } catch {
            return .failure(error)
        }
    }

    /// A call that failed: recorded, then the next attempt (after a pause), the next model, or the end.
    @inline(never)
    private func failed(_ error: ProviderError, reservation: BudgetLedger.Reservation, circuit: Locked<[CircuitEvent]>) async
        -> Step
    {
        ledger.settle(reservation, usage: .zero, price: model.price)
        if case .cancelled = error { return end(.cancelled) }
        if Task.isCancelled { return end(.cancelled) }
        if let request {
            await record(request, model: model, attempt: attempts, reply: nil, status: .failed,
                problems: [error.description] + circuit.withLock { $0 }.compactMap(\.note), usage: .zero, cost: nil,
                since: callStart, key: cacheKey, errorKind: error.kind)
        }
        lastError = .provider(model: model, error)
        // An open circuit: no retry on this model, its next model at once.
        if case .circuitOpen = error { return .nextModel }
        // A request the API rejects (400, 401, 403, 404) will not work on retry.
        guard error.isTransient else { return end(.failed(lastError)) }
        // After a budget stop, no pause: the next attempt is refused at once.
        if retry < stage.retries, ledger.stop == nil {
            let delay = context.retryPolicy.delay(retry: retry + 1, retryAfter: error.retryAfter)
            events(.retrying(unit: unit, attempt: attempts, reason: lastError, delay: delay))
            do { try await Task.sleep(for: delay) } catch { return end(.cancelled) }
        }
        return .nextAttempt
    }

    /// A reply: settled, then the answer, or the tools it calls run for the next turn.
    @inline(never)
    private func answered(_ turnReply: ModelReply, reservation: BudgetLedger.Reservation, circuit: Locked<[CircuitEvent]>) async
        -> Step
    {
        ledger.settle(reservation, usage: turnReply.usage, price: model.price)
        circuitNotes = circuit.withLock { $0 }.compactMap(\.note)
        usage = usage + turnReply.usage
        cost = model.price.map { BudgetLedger.cost(turnReply.usage, $0) }
        if let cost { totalCost = (totalCost ?? 0) + cost }
        let calls = turnReply.toolUses.filter { $0.name != ProviderNames.sanitized(context.stage.name) }
        guard let tools, turnReply.answerText.isEmpty, !calls.isEmpty, let request else {
            reply = turnReply
            return .answered
        }
        // A turn: the calls run at once, their results go back in the calls' order.
        await record(request, model: model, attempt: attempts, reply: turnReply.answerText, status: .turn,
            problems: [], usage: turnReply.usage, cost: cost, since: callStart, key: cacheKey, stopReason: turnReply.stopReason,
            responseModel: turnReply.model)
        if Task.isCancelled { return end(.cancelled) }
        let results = await tools.run(calls)
        for call in results {
            let record = await context.record.recorded(ToolCallRecord(
                stage: unit.description, attempt: attempts, turn: turn, tool: call.tool, arguments: call.arguments,
                resultCharacters: call.outcome.fullLength, isError: call.outcome.isError, error: call.failure,
                duration: call.duration, startedAt: call.startedAt, callID: call.id, result: call.outcome.content))
            events(.toolCallFinished(record))
            await journal?.record(record)
        }
        if Task.isCancelled { return end(.cancelled) }
        conversation += [
            ChatMessage(.assistant, turnReply.content),
            ChatMessage(.user, results.map { .toolResult(toolUseID: $0.id, content: $0.outcome.content, isError: $0.outcome.isError) }),
        ]
        return .nextTurn
    }

    /// The attempt's answer checked and recorded: the unit's value (true, the unit ended), or
    /// a re-ask in the next attempt (false).
    @inline(never)
    private func answer() async -> Bool {
        guard let reply, let request else {
            lastError = .noAnswer(model: model, turns: stage.maxTurns)
            if retry < stage.retries {
                events(.retrying(unit: unit, attempt: attempts, reason: lastError, delay: .zero))
            }
            return false
        }
        let checked = await check(reply.answerText)
        await record(request, model: model, attempt: attempts, reply: reply.answerText,
            status: checked.isValue ? .ok : .invalid, problems: checked.problems + circuitNotes, usage: reply.usage, cost: cost,
            since: callStart, key: cacheKey, stopReason: reply.stopReason, responseModel: reply.model)
        // A validation cut short by cancellation (Ctrl-C, a run being stopped) is no verdict.
        if !checked.isValue, Task.isCancelled { return ends(.cancelled) }
        // A re-ask goes on from the conversation, the tools' results included.
        messages = conversation
        switch checked {
        case .value(let value):
            return ends(.value(value))
        case .notJSON(let message):
            lastError = .notJSON(model: model, problem: message)
            messages += [ChatMessage(.assistant, reply.answerText), ChatMessage(.user, Reask.notJSON(message))]
        case .invalid(let errors):
            lastError = .schemaMismatch(model: model, errors: errors)
            messages += [ChatMessage(.assistant, reply.answerText), ChatMessage(.user, Reask.invalid(errors))]
        }
        if retry < stage.retries {
            events(.retrying(unit: unit, attempt: attempts, reason: lastError, delay: .zero))
        }
        return false
    }

    /// A reply read as the stage's value: a value, not JSON, or not matching the schema.
    private enum Checked {
        case value(JSONValue)
        case notJSON(String)
        case invalid([ValidationError])

        var isValue: Bool {
            if case .value = self { return true }
            return false
        }

        var problems: [String] {
            switch self {
            case .value: []
            case .notJSON(let message): [message]
            case .invalid(let errors): errors.map(\.description)
            }
        }
    }

    @inline(never)
    private func check(_ text: String) async -> Checked {
        let (structured, validator) = (context.stage.outputSchema != nil, validator)
        return await offHTTPThread {
            switch ReplyParser.value(of: text, structured: structured) {
            case .failure(let error): return .notJSON(error.message)
            case .success(let value):
                let errors = validator?.validate(value, maxErrors: 20) ?? []
                return errors.isEmpty ? .value(value) : .invalid(errors)
            }
        }
    }

    /// Tells the journal and the event stream that a call completed.
    @inline(never)
    private func record(
        _ request: ModelRequest, model: ResolvedModel, attempt: Int, reply: String?, status: CallRecord.Status,
        problems: [String], usage: TokenUsage, cost: Double?, since start: ContinuousClock.Instant, key: String?,
        stopReason: StopReason? = nil, errorKind: String? = nil, responseModel: String? = nil
    ) async {
        let call = await context.record.recorded(CallRecord(
            stage: unit.description, attempt: attempt, model: model, request: request, reply: reply, status: status,
            problems: problems, usage: usage, costUSD: cost, latency: ContinuousClock.now - start, cacheKey: key,
            stopReason: stopReason, errorKind: errorKind, responseModel: responseModel))
        events(.callFinished(call))
        await journal?.record(call)
    }
}

/// What the model is told when its reply is unusable.
enum Reask {
    static func invalid(_ errors: [ValidationError]) -> String {
        """
        Your reply does not match the required JSON Schema:
        \(errors.map { "- \($0)" }.joined(separator: "\n"))
        Reply again with only the corrected JSON value.
        """
    }

    static func notJSON(_ problem: String) -> String {
        "Your reply could not be used: \(problem). Reply again with only a JSON value that matches the required schema, with no text around it."
    }
}
