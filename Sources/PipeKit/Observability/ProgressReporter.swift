import Foundation

/// Shows a run's progress on stderr. On a terminal, a live table redrawn in place (one line a
/// stage: waiting, running with its elapsed time and the tokens streamed so far, done,
/// failed, reused); elsewhere, one plain line per stage event. Fed with the runner's events.
/// After a write fails, nothing more is written and `failure` says why.
public final class ProgressReporter: Sendable {
    public enum Mode: Sendable {
        case live
        case plain
    }

    private struct Line {
        var status = "waiting"
        var started: ContinuousClock.Instant?
        var elapsed: Duration?
        var characters = 0
        var tokens: Int?
        var attempts = 0
        var note = ""
    }

    private struct State {
        var lines: [String: Line] = [:]
        var drawn = 0
        var finished = false
        /// While a question is asked at the terminal, the table is not redrawn.
        var paused = false
        var failure: WriteError?
    }

    let order: [String]
    let mode: Mode
    /// Lines the live display uses at most.
    static let maxLines = 20
    private let state: Locked<State>
    private let output: @Sendable (String) throws(WriteError) -> Void

    public init(stages: [String], mode: Mode, output: @escaping @Sendable (String) throws(WriteError) -> Void) {
        self.order = stages
        self.mode = mode
        self.output = output
        self.state = Locked(State(lines: Dictionary(uniqueKeysWithValues: stages.map { ($0, Line()) })))
    }

    /// Redraws the live table until `finish()`; returns at once in plain mode.
    public func run() async {
        guard mode == .live else { return }
        while !Task.isCancelled, !state.withLock({ $0.finished }) {
            redraw()
            try? await Task.sleep(for: .milliseconds(100))
        }
    }

    /// The write that failed, if one did.
    public var failure: WriteError? {
        state.withLock { $0.failure }
    }

    /// Stops redrawing (a question is being asked on the terminal).
    public func pause() {
        state.withLock { $0.paused = true }
    }

    /// Redraws again, below whatever was printed meanwhile.
    public func resume() {
        state.withLock { state in
            state.paused = false
            state.drawn = 0
        }
    }

    /// Draws the final state and stops redrawing.
    public func finish() {
        guard mode == .live else { return }
        redraw()
        state.withLock { $0.finished = true }
    }

    /// The line of a unit: a loop's iteration (`writer@2`) is shown on its stage's line.
    /// (The items of a `for_each` keep lines of their own, which the table does not show.)
    private func line(of unit: RunUnitID) -> (name: String, iteration: Int?) {
        guard unit.item == nil else { return (unit.description, nil) }
        return (unit.stage, unit.iteration)
    }

    public func record(_ event: RunEvent) {
        let now = ContinuousClock.now
        var plain: String?
        state.withLock { state in
            switch event {
            case .stageStarted(let unit):
                let (stage, iteration) = line(of: unit)
                state.lines[stage, default: Line()].status = "running"
                if iteration == nil || iteration == 1 { state.lines[stage]?.started = now }
                state.lines[stage]?.note = iteration.map { "iteration \($0)" } ?? ""
                plain = "\(unit): started"
            case .attemptStarted(let unit, let attempt, let model):
                let stage = unit.description
                state.lines[stage]?.attempts = attempt
                state.lines[stage]?.characters = 0
                state.lines[stage]?.note = attempt > 1 ? "attempt \(attempt), \(model.name)" : ""
            case .streaming(let unit, let characters):
                state.lines[unit.description]?.characters = characters
            case .rateLimit(let unit, let model, .waiting(let expected, let after429)):
                let note = RateLimitWait.text(model: model.name, after429: after429, remaining: expected)
                state.lines[unit.description]?.note = note
                // A wait worth a line of its own: a 429's pause, or a second or more.
                if after429 || expected.map({ $0 >= .seconds(1) }) == true { plain = "\(unit): \(note)" }
            case .rateLimit(let unit, _, .granted):
                state.lines[unit.description]?.note = ""
            case .circuit(let unit, let model, let event):
                let text = event.text(model: model.name)
                state.lines[unit.description]?.note = text
                plain = "\(unit): \(text)"
            case .retrying(let unit, let attempt, let reason, let delay):
                let stage = unit.description
                let wait = delay > .zero ? " in \(DurationFormat.short(delay))" : ""
                state.lines[stage]?.note = "retrying\(wait): \(reason)"
                plain = "\(stage): attempt \(attempt) failed (\(reason)); retrying\(wait)"
            case .fallingBack(let unit, _, let to, _):
                let stage = unit.description
                state.lines[stage]?.note = "falling back to \(to.name)"
                plain = "\(stage): falling back to model `\(to.name)` (\(to.model))"
            case .callFinished:
                break
            case .toolCallFinished(let call):
                plain = "\(call.stage): turn \(call.turn) called \(call.tool)" + (call.isError ? " (error)" : "")
            case .stageFinished(let report) where line(of: report.unit).iteration != nil:
                plain = "\(report.stage): \(report.status == .succeeded ? "done" : report.status.display) (\(report.usage.total) tokens)"
            case .stageFinished(let report):
                var line = state.lines[report.stage] ?? Line()
                line.status = report.status == .succeeded ? "done" : report.status.display
                line.elapsed = report.latency
                line.tokens = report.usage.total
                line.note = report.status == .failed || report.status.isDegraded ? (report.error ?? "") : ""
                state.lines[report.stage] = line
                switch report.status {
                case .succeeded:
                    plain = "\(report.stage): done in \(DurationFormat.short(report.latency)) (\(report.usage.total) tokens, \(report.attempts) attempt\(report.attempts == 1 ? "" : "s"))"
                        + (report.error.map { "; \($0)" } ?? "")
                case .reused: plain = "\(report.stage): reused from the run being resumed"
                case .failed: plain = "\(report.stage): failed: \(report.error ?? "")"
                case .cancelled: plain = "\(report.stage): cancelled"
                case .waiting: plain = "\(report.stage): waiting for approval"
                case .skipped: plain = "\(report.stage): skipped (its `when:` does not hold)"
                case .failedSkipped, .failedDefault:
                    plain = "\(report.stage): \(report.status.display) (on_error): \(report.error ?? "")"
                }
            }
        }
        if mode == .plain, let plain { emit("pipe: \(plain)\n") }
    }

    private func redraw() {
        let now = ContinuousClock.now
        let text = state.withLock { state -> String in
            if state.paused { return "" }
            // A wide pipeline shows the stages in flight or failed, and counts the others.
            var shown = order
            var summary: String?
            if order.count > Self.maxLines {
                shown = order.filter { ["running", "failed"].contains(state.lines[$0]?.status) }.prefix(Self.maxLines - 1).map { $0 }
                let counts = Dictionary(grouping: order, by: { state.lines[$0]?.status ?? "waiting" }).mapValues(\.count)
                summary = ["done", "reused", "running", "failed", "cancelled", "waiting"].compactMap { status in
                    counts[status].map { "\($0) \(status)" }
                }.joined(separator: ", ")
            }
            let width = shown.map(\.count).max() ?? 0
            var text = state.drawn > 0 ? "\u{1B}[\(state.drawn)F" : ""
            var drawn = 0
            if let summary {
                text += "\u{1B}[2K  \(order.count) stages: \(summary)\n"
                drawn += 1
            }
            for name in shown {
                let line = state.lines[name] ?? Line()
                let symbol = switch line.status {
                case "done": "✓"
                case "reused": "↺"
                case "failed": "✗"
                case "failed → skipped", "failed → default": "!"
                case "running": "…"
                case "cancelled": "-"
                default: "·"
                }
                var detail = line.status
                if line.status == "running", let started = line.started {
                    detail += " " + DurationFormat.short(now - started)
                    if line.characters > 0 { detail += ", ~\(TokenEstimate.tokens(forCharacters: line.characters)) tokens streamed" }
                } else if let elapsed = line.elapsed {
                    detail += " " + DurationFormat.short(elapsed)
                    if let tokens = line.tokens, tokens > 0 { detail += ", \(tokens) tokens" }
                }
                if !line.note.isEmpty { detail += " (\(line.note.prefix(80)))" }
                text += "\u{1B}[2K  \(symbol) \(name.padding(toLength: width, withPad: " ", startingAt: 0))  \(detail)\n"
                drawn += 1
            }
            // Clear what a longer previous frame left below.
            for _ in drawn..<max(drawn, state.drawn) { text += "\u{1B}[2K\n" }
            state.drawn = max(drawn, state.drawn)
            return text
        }
        if !text.isEmpty { emit(text) }
    }

    private func emit(_ text: String) {
        guard state.withLock({ $0.failure == nil }) else { return }
        do {
            try output(text)
        } catch {
            state.withLock { $0.failure = $0.failure ?? error }
        }
    }
}
