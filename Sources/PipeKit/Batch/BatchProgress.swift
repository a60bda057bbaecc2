extension ItemResult {
    /// One line of `pipe batch`'s results: `{"item", "status", "output", "run", "tokens",
    /// "cost_usd"}`, or `stage` and `error` for a failed item, `error` for an invalid input.
    public var json: JSONValue {
        var members: [(String, JSONValue)] = [("item", .number(JSONNumber(index))), ("status", .string(status.rawValue))]
        switch status {
        case .succeeded:
            members.append(("output", output ?? .null))
            if !degraded.isEmpty {
                members.append(("degraded", .array(degraded.map(JSONValue.string))))
                members.append(("error", .string(error ?? "")))
            }
        case .failed:
            members.append(("stage", stage.map(JSONValue.string) ?? .null))
            members.append(("error", .string(error ?? "")))
        case .invalidInput:
            members.append(("error", .string(error ?? "")))
            return .object(JSONObject(members))
        case .pending, .running:
            return .object(JSONObject(members))
        }
        if let runID { members.append(("run", .string(runID))) }
        members.append((
            "tokens", .object(JSONObject([("input", .number(JSONNumber(usage.input))), ("output", .number(JSONNumber(usage.output)))]))
        ))
        members.append(("cost_usd", costUSD.map { .number(JSONNumber($0)) } ?? .null))
        return .object(JSONObject(members))
    }
}

/// A batch's progress on stderr: on a terminal one line redrawn in place (items done,
/// failed, running, pending; calls per second, tokens, cost, ETA; the calls waiting for a
/// model's rate limit), cut to the terminal's width; elsewhere one plain line per ended item,
/// and one when a 429 pauses a model. After a write fails, nothing more is written and
/// `failure` says why.
public final class BatchProgress: Sendable {
    /// A call waiting for its model's rate limit: since when, what it waits for.
    private struct Waiting {
        var model: String
        var since: ContinuousClock.Instant
        var expected: Duration?
        var after429: Bool
    }

    private struct State {
        var counts: BatchCounts
        var calls = 0
        var tokens = 0
        var costUSD = 0.0
        /// Items ended since this process started, for the ETA.
        var endedHere = 0
        /// Calls waiting for a rate limit, by item and unit.
        var waiting: [String: Waiting] = [:]
        var finished = false
        var drawn = false
        var failure: WriteError?
        /// The provider batches being polled (`--provider-batch`), in the order first polled.
        var providerBatches: [(id: String, label: String, status: ProviderBatchStatus)] = []
        /// The lines drawn above the live line last time (one per provider batch).
        var linesAbove = 0
    }

    let mode: ProgressReporter.Mode
    /// The terminal's columns: the live line is cut to fit (a line that wraps cannot be redrawn
    /// in place). Nil: unknown, not cut.
    let width: Int?
    private let start: ContinuousClock.Instant
    private let state: Locked<State>
    private let output: @Sendable (String) throws(WriteError) -> Void

    public init(
        counts: BatchCounts, mode: ProgressReporter.Mode, width: Int? = nil, start: ContinuousClock.Instant = .now,
        output: @escaping @Sendable (String) throws(WriteError) -> Void
    ) {
        self.mode = mode
        self.width = width.flatMap { $0 > 0 ? $0 : nil }
        self.start = start
        self.output = output
        state = Locked(State(counts: counts))
    }

    public var failure: WriteError? { state.withLock { $0.failure } }

    /// Redraws the live line until `finish()`; returns at once in plain mode.
    public func run() async {
        guard mode == .live else { return }
        while !Task.isCancelled, !state.withLock({ $0.finished }) {
            redraw()
            try? await Task.sleep(for: .milliseconds(200))
        }
    }

    /// The live lines drawn again in place: a line per provider batch polled, then the counts.
    private func redraw() {
        state.withLock { state in
            guard state.failure == nil else { return }
            let above = state.providerBatches.map { providerBatchLine($0.id, label: $0.label, $0.status) }
            let text = Self.erase(state.linesAbove) + above.map { $0 + "\n" }.joined() + line(state, at: .now)
            do throws(WriteError) {
                try output(text)
                state.linesAbove = above.count
                state.drawn = true
            } catch {
                state.failure = error
            }
        }
    }

    /// Stops redrawing and clears the live lines.
    public func finish() {
        let (drawn, above) = state.withLock { state in
            state.finished = true
            defer { state.linesAbove = 0 }
            return (state.drawn, state.linesAbove)
        }
        if mode == .live, drawn { write(Self.erase(above)) }
    }

    /// A line of its own (a provider batch submitted or ended): above the live lines, which the
    /// next redraw puts back.
    public func note(_ text: String) {
        guard mode == .live else { return write("pipe: " + text + "\n") }
        state.withLock { state in
            guard state.failure == nil else { return }
            do throws(WriteError) {
                try output(Self.erase(state.linesAbove) + "pipe: " + text + "\n")
                state.linesAbove = 0
            } catch {
                state.failure = error
            }
        }
    }

    /// A provider batch was polled: on a terminal its live line shows where it stands (until it
    /// ends); elsewhere a plain line each time its state or counts change.
    public func polled(_ batch: SubmittedProviderBatch, _ status: ProviderBatchStatus) {
        let label = "\(batch.provider) \(batch.model)"
        let changed = state.withLock { state -> Bool in
            let index = state.providerBatches.firstIndex { $0.id == batch.id }
            if status.ended {
                if let index { state.providerBatches.remove(at: index) }
                return false
            }
            guard let index else {
                state.providerBatches.append((batch.id, label, status))
                return true
            }
            defer { state.providerBatches[index].status = status }
            return state.providerBatches[index].status != status
        }
        if mode == .plain, changed { write("pipe: " + providerBatchLine(batch.id, label: label, status) + "\n") }
    }

    /// A provider batch's line: its id, model, state, and its requests done, errored and
    /// expired of all; cut to the terminal's width in live mode.
    func providerBatchLine(_ id: String, label: String, _ status: ProviderBatchStatus) -> String {
        let line = "provider batch \(id) (\(label)): \(status.state) · \(status.done)/\(status.total) done · "
            + "\(status.errored) errored · \(status.expired) expired" + (status.canceled > 0 ? " · \(status.canceled) canceled" : "")
        return mode == .live ? cut(line) : line
    }

    /// The live lines as they would be drawn at `now`: one per provider batch, then the counts.
    func lines(at now: ContinuousClock.Instant) -> [String] {
        let current = state.withLock { $0 }
        return current.providerBatches.map { providerBatchLine($0.id, label: $0.label, $0.status) } + [line(current, at: now)]
    }

    /// Valid items added to the batch (they wait to be claimed).
    public func enqueued(_ count: Int) {
        state.withLock { $0.counts.pending += count }
    }

    public func started(_ claim: Claim) {
        state.withLock { state in
            state.counts.pending = max(0, state.counts.pending - 1)
            state.counts.running += 1
        }
    }

    /// What the run of item `item` reports: its calls ending, its waits for a rate limit.
    public func record(_ event: RunEvent, item: Int, at now: ContinuousClock.Instant = .now) {
        let paused: String? = state.withLock { state in
            switch event {
            case .callFinished(let call):
                state.calls += 1
                state.tokens += call.usage.total
                state.costUSD += call.costUSD ?? 0
            case .rateLimit(let unit, let model, .waiting(let expected, let after429)):
                let pausedBefore = state.waiting.values.contains { $0.model == model.name && $0.after429 }
                state.waiting["\(item) \(unit)"] = Waiting(model: model.name, since: now, expected: expected, after429: after429)
                if after429, !pausedBefore { return RateLimitWait.text(model: model.name, after429: true, remaining: expected) }
            case .rateLimit(let unit, _, .granted):
                state.waiting["\(item) \(unit)"] = nil
            case .circuit(_, let model, let event):
                // A circuit opening or closing is worth a line; the calls it refuses are not.
                switch event {
                case .opened, .closed: return event.text(model: model.name)
                case .refused, .trial: break
                }
            case .stageStarted, .attemptStarted, .streaming, .retrying, .fallingBack, .stageFinished, .toolCallFinished:
                break
            }
            return nil
        }
        if mode == .plain, let paused { write("pipe: \(paused)\n") }
    }

    /// An item ended: run (it was started), or found invalid as it was read.
    public func ended(_ result: ItemResult, line: Int) {
        state.withLock { state in
            switch result.status {
            case .succeeded: state.counts.succeeded += 1
            case .failed: state.counts.failed += 1
            case .invalidInput: state.counts.invalidInput += 1
            case .pending, .running: break
            }
            if result.status != .invalidInput {
                state.counts.running = max(0, state.counts.running - 1)
                state.endedHere += 1
                state.waiting = state.waiting.filter { !$0.key.hasPrefix("\(result.index) ") }
            }
        }
        guard mode == .plain else { return }
        let what = switch result.status {
        case .succeeded: "succeeded"
        case .failed: "failed" + (result.stage.map { " at stage `\($0)`" } ?? "") + (result.error.map { ": \(Self.firstLine($0))" } ?? "")
        case .invalidInput, .pending, .running: result.status.rawValue
        }
        write("item \(result.index) (line \(line)): \(what)" + (result.runID.map { ", run \($0)" } ?? "") + "\n")
    }

    /// The live line as it would be drawn at `now`.
    func line(at now: ContinuousClock.Instant) -> String {
        line(state.withLock { $0 }, at: now)
    }

    private func line(_ state: State, at now: ContinuousClock.Instant) -> String {
        let seconds = max(0.001, (now - start).seconds)
        let counts = state.counts
        let rate = Double(state.endedHere) / seconds
        let eta = rate > 0 && counts.pending + counts.running > 0
            ? ", ETA " + DurationFormat.short(.seconds(Double(counts.pending + counts.running) / rate)) : ""
        var line = "\(counts.succeeded) done, \(counts.failed + counts.invalidInput) failed, \(counts.running) running, "
            + "\(counts.pending) pending · \(Int((Double(state.calls) / seconds).rounded())) calls/s · "
            + "\(state.tokens) tokens · \(RunSummary.usd(state.costUSD))\(eta)"
        // The model most calls wait for: how many, whether a 429 paused it, how long the next still waits.
        let byModel = Dictionary(grouping: state.waiting.values, by: \.model)
        if let (model, calls) = byModel.max(by: { ($0.value.count, $1.key) < ($1.value.count, $0.key) }) {
            let remaining = calls.compactMap { call in call.expected.map { $0 - (now - call.since) } }.min()
            line += " · " + RateLimitWait.text(
                model: model, calls: calls.count, after429: calls.contains(where: \.after429), remaining: remaining)
        }
        return cut(line)
    }

    /// A live line cut to the terminal's width (a line that wraps cannot be redrawn in place).
    private func cut(_ line: String) -> String {
        guard let width, line.count >= width else { return line }
        return String(line.prefix(max(0, width - 2))) + "…"
    }

    private static let erase = "\r\u{1B}[2K"

    /// Clears the live line and the `above` lines over it, leaving the cursor at the first's start.
    private static func erase(_ above: Int) -> String {
        erase + String(repeating: "\u{1B}[1A\u{1B}[2K", count: above)
    }

    static func firstLine(_ text: String) -> String {
        String(text.split(separator: "\n", omittingEmptySubsequences: false).first ?? "")
    }

    private func write(_ text: String) {
        guard !text.isEmpty else { return }
        state.withLock { state in
            guard state.failure == nil else { return }
            do throws(WriteError) {
                try output(text)
            } catch {
                state.failure = error
            }
        }
    }
}
