/// Runs a model stage: renders its prompt, calls its model, validates the reply, re-asks
/// with the validation errors, retries transient failures with backoff, then tries each
/// fallback model. Downstream stages only ever receive a schema-valid value.
struct ModelStageExecutor: StageExecutor {
    let stage: ModelStage

    func run(_ context: StageContext) async -> (StageOutcome, StageReport) {
        await Run(stage: stage, context: context).run()
    }

    func pending(_ context: StageContext) -> PendingApproval {
        PendingApproval(
            stage: context.stage.name, system: stage.system.map(context.renderer.render),
            prompt: context.renderer.render(stage.prompt))
    }
}

/// One unit's run of a model stage.
private struct Run: Sendable {
    let stage: ModelStage
    let context: StageContext

    var unit: RunUnitID { context.unit }
    var validator: JSONSchema? { context.validator }
    var renderer: TemplateRenderer { context.renderer }
    var ledger: BudgetLedger { context.ledger }
    var retryPolicy: RetryPolicy { context.retryPolicy }
    var deadline: ContinuousClock.Instant? { context.deadline }
    var journal: (any RunJournal)? { context.journal }
    var events: @Sendable (RunEvent) -> Void { context.events }
    /// Reuse replies of identical earlier calls.
    var cache: Bool { stage.cache || context.cacheEverything }

    /// The state of the stage's attempts, for its report.
    private struct Tally {
        var attempts = 0
        var usage = TokenUsage.zero
        var cost: Double?
        var model: ResolvedModel
    }

    func run() async -> (StageOutcome, StageReport) {
        let start = ContinuousClock.now
        events(.stageStarted(unit: unit))
        var tally = Tally(model: stage.model)
        let system = stage.system.map(renderer.render)
        let prompt = renderer.render(stage.prompt)
        // Fingerprints and cache keys only matter to a journal, and a stage's fingerprint before
        // the stage ends only to one that resumes a run: else it is made where it is recorded.
        var fingerprint: StageFingerprint?
        if let journal {
            let rendered = [system ?? "-", prompt]
            fingerprint = journal.resumes ? .made(Fingerprint.stage(context.stage, rendered: rendered)) : .later(context.stage, rendered: rendered)
        }
        var reused = false
        let outcome: StageOutcome
        if case .made(let fingerprint) = fingerprint,
            let earlier = await journal?.reusableOutput(stage: unit.description, fingerprint: fingerprint),
            await offHTTPThread({ validator?.isValid(earlier) ?? (earlier.stringValue != nil) })
        {
            reused = true
            outcome = .value(earlier)
        } else {
            outcome = await attempt(&tally, system: system, prompt: prompt)
        }
        return await context.end(
            outcome, reused: reused, model: tally.model, attempts: tally.attempts, usage: tally.usage, costUSD: tally.cost,
            since: start, fingerprint: fingerprint)
    }

    private func attempt(_ tally: inout Tally, system: String?, prompt: String) async -> StageOutcome {
        let models = [stage.model] + stage.fallbacks
        var lastError = StageFailure.noAttempt
        // The tools are listed once for the unit, and offered every turn of every attempt.
        var tools: ToolTurns?
        if !stage.tools.isEmpty {
            guard let servers = context.toolServers else { return .failed(.toolSetup(.unavailable)) }
            do {
                tools = try await ToolTurns.offer(
                    stage.tools, from: servers, avoiding: ProviderNames.sanitized(context.stage.name), timeout: stage.timeout)
            } catch {
                return .failed(error)
            }
        }
        let definitions = tools?.definitions ?? []
        // Providers send the schema as a tool or a response format, and the tools: input too.
        let schemaCharacters = WorstCase.schemaCharacters(context.stage.outputSchema)
            + definitions.reduce(0) { $0 + $1.json.serialized().utf8.count }
        for (index, model) in models.enumerated() {
            if index > 0 {
                events(.fallingBack(unit: unit, from: models[index - 1], to: model, reason: lastError))
            }
            tally.model = model
            let provider: any ModelProvider
            do {
                provider = try context.resolveProvider(model)
            } catch {
                return .failed(.noProvider(error))
            }
            var messages = [ChatMessage(.user, prompt)]
            attempts: for retry in 0...stage.retries {
                if Task.isCancelled { return .cancelled }
                if let deadline, ContinuousClock.now >= deadline {
                    return .failed(.timeBudget(unit: unit))
                }
                tally.attempts += 1
                events(.attemptStarted(unit: unit, attempt: tally.attempts, model: model))
                // The turns of the attempt: each reply that calls tools gets their results, until
                // the model answers or `max_turns` is reached.
                var conversation = messages
                var reply: ModelReply?
                var request: ModelRequest
                var cacheKey: String?
                var callStart = ContinuousClock.now
                var cost: Double?
                var turn = 0
                var circuitNotes: [String] = []
                repeat {
                    turn += 1
                    if turn > 1, let deadline, ContinuousClock.now >= deadline { return .failed(.timeBudget(unit: unit)) }
                    request = ModelRequest(
                        model: model, system: system, messages: conversation, outputSchema: context.stage.outputSchema,
                        stageName: context.stage.name, maxTokens: stage.maxTokens, temperature: stage.temperature, timeout: stage.timeout,
                        unit: unit, tools: definitions)
                    // Made here only to look the cache up; the journal makes it for the record
                    // otherwise (`CallRecord.cacheKey`), off this thread.
                    // A stage with tools is not answered from the cache: its turns act on the world.
                    cacheKey = cache && tools == nil && journal != nil ? Fingerprint.call(request) : nil
                    callStart = ContinuousClock.now
                    if let journal, let cacheKey, let cached = await journal.cachedReply(key: cacheKey) {
                        if case .value(let value) = await check(cached.answerText) {
                            await record(request, model: model, attempt: tally.attempts, reply: cached.answerText, status: .cached,
                                problems: [], usage: .zero, cost: nil, since: callStart, key: cacheKey)
                            return .value(value)
                        }
                    }
                    let reservation: BudgetLedger.Reservation
                    do {
                        reservation = try await ledger.reserve(
                            stage: unit, inputTokens: request.inputTokenEstimate(schemaCharacters: schemaCharacters),
                            maxOutputTokens: stage.maxTokens, price: model.price)
                    } catch {
                        return .failed(.budget(error))
                    }
                    let turnReply: ModelReply
                    // What the model's circuit breaker did to the call, for its record.
                    let circuit = Locked<[CircuitEvent]>([])
                    do {
                        let name = unit
                        let events = self.events
                        turnReply = try await provider.complete(request) { progress in
                            switch progress {
                            case .received(let characters): events(.streaming(unit: name, characters: characters))
                            case .rateLimit(let wait): events(.rateLimit(unit: name, model: model, wait))
                            case .circuit(let event):
                                circuit.withLock { $0.append(event) }
                                events(.circuit(unit: name, model: model, event))
                            }
                        }
                    } catch {
                        await ledger.settle(reservation, usage: .zero, price: model.price)
                        if case .cancelled = error { return .cancelled }
                        if Task.isCancelled { return .cancelled }
                        await record(request, model: model, attempt: tally.attempts, reply: nil, status: .failed,
                            problems: [error.description] + circuit.withLock { $0 }.compactMap(\.note), usage: .zero, cost: nil,
                            since: callStart, key: cacheKey, errorKind: error.kind)
                        lastError = .provider(model: model, error)
                        // An open circuit: no retry on this model, its next model at once.
                        if case .circuitOpen = error { break attempts }
                        // A request the API rejects (400, 401, 403, 404) will not work on retry.
                        guard error.isTransient else { return .failed(lastError) }
                        // After a budget stop, no pause: the next attempt is refused at once.
                        if retry < stage.retries, await ledger.stop == nil {
                            let delay = retryPolicy.delay(retry: retry + 1, retryAfter: error.retryAfter)
                            events(.retrying(unit: unit, attempt: tally.attempts, reason: lastError, delay: delay))
                            do { try await Task.sleep(for: delay) } catch { return .cancelled }
                        }
                        continue attempts
                    }
                    await ledger.settle(reservation, usage: turnReply.usage, price: model.price)
                    circuitNotes = circuit.withLock { $0 }.compactMap(\.note)
                    tally.usage = tally.usage + turnReply.usage
                    cost = model.price.map { BudgetLedger.cost(turnReply.usage, $0) }
                    if let cost { tally.cost = (tally.cost ?? 0) + cost }
                    let calls = turnReply.toolUses.filter { $0.name != ProviderNames.sanitized(context.stage.name) }
                    guard let tools, turnReply.answerText.isEmpty, !calls.isEmpty else {
                        reply = turnReply
                        break
                    }
                    // A turn: the calls run at once, their results go back in the calls' order.
                    await record(request, model: model, attempt: tally.attempts, reply: turnReply.answerText, status: .turn,
                        problems: [], usage: turnReply.usage, cost: cost, since: callStart, key: cacheKey, stopReason: turnReply.stopReason,
                        responseModel: turnReply.model)
                    if Task.isCancelled { return .cancelled }
                    let results = await tools.run(calls)
                    for call in results {
                        let record = await context.record.recorded(ToolCallRecord(
                            stage: unit.description, attempt: tally.attempts, turn: turn, tool: call.tool, arguments: call.arguments,
                            resultCharacters: call.outcome.fullLength, isError: call.outcome.isError, error: call.failure,
                            duration: call.duration, startedAt: call.startedAt, callID: call.id, result: call.outcome.content))
                        events(.toolCallFinished(record))
                        await journal?.record(record)
                    }
                    if Task.isCancelled { return .cancelled }
                    conversation += [
                        ChatMessage(.assistant, turnReply.content),
                        ChatMessage(.user, results.map { .toolResult(toolUseID: $0.id, content: $0.outcome.content, isError: $0.outcome.isError) }),
                    ]
                } while turn < stage.maxTurns
                guard let reply else {
                    lastError = .noAnswer(model: model, turns: stage.maxTurns)
                    if retry < stage.retries {
                        events(.retrying(unit: unit, attempt: tally.attempts, reason: lastError, delay: .zero))
                    }
                    continue attempts
                }
                let checked = await check(reply.answerText)
                await record(request, model: model, attempt: tally.attempts, reply: reply.answerText,
                    status: checked.isValue ? .ok : .invalid, problems: checked.problems + circuitNotes, usage: reply.usage, cost: cost,
                    since: callStart, key: cacheKey, stopReason: reply.stopReason, responseModel: reply.model)
                // A validation cut short by cancellation (Ctrl-C, a run being stopped) is no verdict.
                if !checked.isValue, Task.isCancelled { return .cancelled }
                // A re-ask goes on from the conversation, the tools' results included.
                messages = conversation
                switch checked {
                case .value(let value):
                    return .value(value)
                case .notJSON(let message):
                    lastError = .notJSON(model: model, problem: message)
                    messages += [ChatMessage(.assistant, reply.answerText), ChatMessage(.user, Reask.notJSON(message))]
                case .invalid(let errors):
                    lastError = .schemaMismatch(model: model, errors: errors)
                    messages += [ChatMessage(.assistant, reply.answerText), ChatMessage(.user, Reask.invalid(errors))]
                }
                if retry < stage.retries {
                    events(.retrying(unit: unit, attempt: tally.attempts, reason: lastError, delay: .zero))
                }
            }
        }
        return .failed(lastError)
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

    // Not inlined: an async function's frame is allocated for its task's whole wait, and the
    // attempt loop's frame, with these inlined, is what thousands of waiting items hold
    // (`pipe batch --provider-batch`, BENCHMARKS).
    @inline(never)
    private func check(_ text: String) async -> Checked {
        await offHTTPThread {
            switch ReplyParser.value(of: text, structured: context.stage.outputSchema != nil) {
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
