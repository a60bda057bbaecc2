/// How one item's run went: ended (succeeded, failed), or stopped before it could end
/// (Ctrl-C), in which case its claim is given back and a later claim resumes its run.
public enum ItemRun: Sendable {
    case ended(ItemResult)
    case unfinished
}

/// Works on a batch through a `WorkQueue`: claims items in input order, runs up to
/// `concurrency` at once, renews their leases while they run and finishes each with its
/// result. An item whose lease another worker took over (this worker was too slow to renew
/// it) is cancelled where it runs, its calls in flight with it, and not finished here. The run of one item (a pipeline run, recorded and resumable) is the caller's
/// `runItem`; every item's calls share the caller's one `CallLimiter` and HTTP client.
public struct BatchRunner: Sendable {
    public struct Options: Sendable {
        /// Items in flight at once.
        public var concurrency: Int
        /// `--max-cost-usd`: no item starts once the ended items cost this much.
        public var maxCostUSD: Double?
        /// How long a claim holds an item without being renewed.
        public var lease: Duration
        /// Who claims (host, process and a nonce).
        public var worker: String
        /// What was spent besides the items' runs, counted against `maxCostUSD` with them
        /// (`pipe eval`'s judges, which score each item as it ends).
        public var spentBesides: @Sendable () -> Double = { 0 }
        /// Claims items ahead of those it runs (half its concurrency). Off with provider
        /// batches: an item claimed ahead would wait out a whole batch's turnaround in this
        /// worker while another worker could have put it in the same batch.
        public var claimsAhead = true
        /// An item's slot is given to the next item once its run has its answer, while its
        /// finish is written (it ends once that is committed). Off: held until the item ended
        /// (`pipe eval`, whose judges score an item in its slot after its run).
        public var freesSlotAtAnswer = true
        /// The batch's input is still being enqueued (`pipe batch` feeds it beside its items):
        /// a claim that finds nothing waits for the next chunk or the input's end.
        public var feeding: BatchFeeding?

        public init(concurrency: Int, maxCostUSD: Double? = nil, lease: Duration = .seconds(60), worker: String) {
            self.concurrency = max(1, concurrency)
            self.maxCostUSD = maxCostUSD
            self.lease = lease
            self.worker = worker
        }
    }

    /// Why the runner stopped.
    public enum Outcome: Sendable, Equatable {
        /// No item is left to claim.
        case drained
        /// `--max-cost-usd` was reached: the items not started stay pending.
        case costLimit(spentUSD: Double)
        /// Cancelled (Ctrl-C): the items in flight were given back.
        case interrupted
    }

    public typealias RunItem = @Sendable (Claim) async -> ItemRun
    /// An item's run that may finish the item itself, through the `ItemFinisher` it is given
    /// (its run's end and the item's in one write); an item it does not finish, the runner does.
    public typealias RunAndFinishItem = @Sendable (Claim, ItemFinisher) async -> ItemRun

    let queue: any WorkQueue
    let batch: String
    let options: Options

    /// An item's task ends it in the queue itself, so that items end side by side.
    fileprivate enum Ended: Sendable {
        case finished(ItemResult, kept: Bool)
        case released
        /// Another worker took the item over: its run was cancelled.
        case lost
        case failed(StoreError)
    }

    /// How an item's task ends it in the queue, once its run is over. Not inlined into the
    /// task: the task's frame is held while the item's run waits (its provider batch).
    @inline(never)
    private static func end(
        _ claim: Claim, _ run: ItemRun?, finisher: ItemFinisher, queue: any WorkQueue, batch: String, worker: String
    ) async -> (Claim, Ended) {
        // Finished by its run: whatever happened since (the item lost meanwhile), the
        // queue has its answer.
        switch finisher.outcome {
        case .success(let (result, kept))?: return (claim, .finished(result, kept: kept))
        case .failure(let error)?: return (claim, .failed(error))
        case nil: break
        }
        guard let run else { return (claim, .lost) }
        do throws(StoreError) {
            switch run {
            case .ended(let result):
                finisher.slot.answered(costUSD: result.costUSD)
                return (claim, .finished(result, kept: try await queue.finish(claim, result: result)))
            case .unfinished:
                try await queue.release(batch: batch, worker: worker, items: [claim.index])
                return (claim, .released)
            }
        } catch {
            return (claim, .failed(error))
        }
    }

    public init(queue: any WorkQueue, batch: String, options: Options) {
        self.queue = queue
        self.batch = batch
        self.options = options
    }

    /// Runs items until none is left, the cost limit is reached, or the task is cancelled.
    /// `started` and `ended` are told of each item as it starts and once it is finished in
    /// the queue (an item another worker took over meanwhile is not).
    public func run(
        started: @escaping @Sendable (Claim) -> Void = { _ in }, ended: @escaping @Sendable (Claim, ItemResult) -> Void,
        runItem: @escaping RunItem
    ) async throws(StoreError) -> Outcome {
        try await run(started: started, ended: ended) { claim, _ in await runItem(claim) }
    }

    /// `run`, with items whose runs may finish them themselves (`RunAndFinishItem`).
    ///
    /// An item holds one of the `concurrency` slots until its run has its answer (its finish
    /// is handed to the queue); the finish's commit is waited for beside the next items' runs,
    /// up to `concurrency` finishes at once, and the item counts as ended (`ended`) only once it
    /// is committed. Claims are made beside the runs too: the loop that starts items never
    /// waits for the store, only for its children's news.
    public func run(
        started: @escaping @Sendable (Claim) -> Void = { _ in }, ended: @escaping @Sendable (Claim, ItemResult) -> Void,
        runItem: @escaping RunAndFinishItem
    ) async throws(StoreError) -> Outcome {
        let held = Locked(Set<Int>())
        let lost = LostClaims()
        let news = Mailbox<News>()
        var buffer: [Claim] = []
        // Started items whose runs have no answer yet (each holds a slot), and started items
        // not yet ended in the queue (those plus the finishes being written).
        var answering = 0
        var inFlight = 0
        var claiming = false
        var drained = false
        var foundNone = ContinuousClock.now
        var spent = 0.0
        var outcome: Outcome?
        var failure: StoreError?
        // Claimed a chunk ahead, so that an item ending does not wait for a claim to start the
        // next; claimed again once half of it is started: one claim (a round trip and a commit)
        // for several items, not one an item.
        let ahead = options.claimsAhead ? max(1, options.concurrency / 2) : 0
        let (queue, batch, options) = (queue, batch, options)

        await withDiscardingTaskGroup { group in
            group.addTask {
                // Leases renewed at a third of their length while items run.
                while (try? await Task.sleep(for: options.lease / 3)) != nil {
                    let items = held.withLock { Array($0) }
                    guard let kept = try? await queue.renew(batch: batch, worker: options.worker, items: items, lease: options.lease)
                    else { continue }
                    // An item another worker took over: its run stops, its result is not finished here.
                    let taken = Set(items).subtracting(kept)
                    held.withLock { $0.subtract(taken) }
                    lost.lose(taken)
                }
            }
            while true {
                if Task.isCancelled, outcome == nil { outcome = .interrupted }
                let wanted = options.concurrency + ahead - buffer.count - answering
                if !claiming, outcome == nil, failure == nil, !drained, buffer.count <= ahead / 2, wanted > 0 {
                    claiming = true
                    group.addTask {
                        do throws(StoreError) {
                            while true {
                                let seen = options.feeding?.chunks
                                let claims = try await queue.claim(batch: batch, worker: options.worker, limit: wanted, lease: options.lease)
                                // Nothing yet, but more is being enqueued: claim again once it is.
                                if claims.isEmpty, let feeding = options.feeding, let seen, await feeding.more(after: seen) { continue }
                                news.post(.claimed(.success(claims)))
                                break
                            }
                        } catch {
                            news.post(.claimed(.failure(error)))
                        }
                    }
                }
                if outcome != nil || failure != nil, !buffer.isEmpty {
                    let unstarted = buffer.map(\.index)
                    buffer = []
                    held.withLock { $0.subtract(unstarted) }
                    do throws(StoreError) {
                        try await queue.release(batch: batch, worker: options.worker, items: unstarted)
                    } catch {
                        failure = failure ?? error
                    }
                }
                while answering < options.concurrency, inFlight < 2 * options.concurrency, !buffer.isEmpty {
                    let claim = buffer.removeFirst()
                    answering += 1
                    inFlight += 1
                    started(claim)
                    let slot = ItemSlot(news: options.freesSlotAtAnswer ? news : nil)
                    group.addTask {
                        let finisher = ItemFinisher(queue: queue, claim: claim, slot: slot)
                        let run = await lost.cancelling(claim.index, { await runItem(claim, finisher) })
                        let end = await Self.end(claim, run, finisher: finisher, queue: queue, batch: batch, worker: options.worker)
                        news.post(.ended(end.0, end.1, heldSlot: slot.take()))
                    }
                }
                if inFlight == 0, !claiming, buffer.isEmpty, drained || outcome != nil || failure != nil { break }
                guard inFlight > 0 || claiming else { break }
                for item in await news.take() {
                    switch item {
                    case .answered(let cost):
                        answering -= 1
                        spent += cost ?? 0
                    case .claimed(.success(let claims)):
                        claiming = false
                        held.withLock { $0.formUnion(claims.map(\.index)) }
                        lost.forget(claims.map(\.index))
                        buffer += claims
                        if claims.isEmpty {
                            drained = true
                            foundNone = .now
                        }
                    case .claimed(.failure(let error)):
                        claiming = false
                        failure = failure ?? error
                    case .ended(let claim, let next, let heldSlot):
                        inFlight -= 1
                        if heldSlot { answering -= 1 }
                        held.withLock { _ = $0.remove(claim.index) }
                        switch next {
                        case .finished(let result, let kept):
                            if kept { ended(claim, result) }
                            if heldSlot { spent += result.costUSD ?? 0 }
                        case .released, .lost:
                            break
                        case .failed(let error):
                            failure = failure ?? error
                        }
                    }
                }
                if let limit = options.maxCostUSD, outcome == nil {
                    let total = spent + options.spentBesides()
                    if total >= limit { outcome = .costLimit(spentUSD: total) }
                }
                // A claim that found nothing may find items again once others' leases lapse: look
                // again every third of a lease while items run (not at each item's end).
                if drained, inFlight > 0, ContinuousClock.now - foundNone > options.lease / 3 { drained = false }
            }
            group.cancelAll()
        }
        if let failure { throw failure }
        return outcome ?? .drained
    }

    /// What the loop that starts items hears from its children.
    fileprivate enum News: Sendable {
        /// An item's run has its answer (what it cost): its slot is free, its finish is being written.
        case answered(costUSD: Double?)
        /// A claim's items (or why it failed).
        case claimed(Result<[Claim], StoreError>)
        /// An item is ended in the queue (or released, lost, or could not be ended); `heldSlot`:
        /// its slot was not freed before (`ItemSlot.take`), its cost not counted yet.
        case ended(Claim, Ended, heldSlot: Bool)
    }
}

/// An item's slot among the runner's `concurrency`: freed once, when its run's answer is
/// known (`ItemFinisher.finish`), or with its end.
final class ItemSlot: Sendable {
    private let news: Mailbox<BatchRunner.News>?
    /// Whether the slot was freed already.
    private let freed = Locked(false)

    /// - Parameter news: nil: the slot is held until the item's end.
    fileprivate init(news: Mailbox<BatchRunner.News>?) {
        self.news = news
    }

    /// The run has its answer, which cost `costUSD`: the slot is freed (once).
    func answered(costUSD: Double?) {
        guard let news, freed.withLock({ freed in defer { freed = true }; return !freed }) else { return }
        news.post(.answered(costUSD: costUSD))
    }

    /// At the item's end: whether the slot was still held (it is freed now).
    fileprivate func take() -> Bool {
        freed.withLock { freed in defer { freed = true }; return !freed }
    }
}

/// Messages from many tasks to one that waits for them: all that arrived, in order, at once.
/// Not ended by the waiter's cancellation (what its children say as they stop is still heard).
final class Mailbox<Message: Sendable>: Sendable {
    private struct State {
        var messages: [Message] = []
        var waiter: CheckedContinuation<[Message], Never>?
    }

    private let state = Locked(State())

    func post(_ message: Message) {
        let waiter = state.withLock { state in
            guard let waiter = state.waiter else {
                state.messages.append(message)
                return nil as CheckedContinuation<[Message], Never>?
            }
            state.waiter = nil
            return waiter
        }
        waiter?.resume(returning: [message])
    }

    /// What arrived since the last call, waiting for at least one message. One waiter at a time.
    func take() async -> [Message] {
        await withCheckedContinuation { continuation in
            let ready = state.withLock { state in
                guard state.messages.isEmpty else {
                    defer { state.messages = [] }
                    return state.messages
                }
                state.waiter = continuation
                return []
            }
            if !ready.isEmpty { continuation.resume(returning: ready) }
        }
    }
}

/// Finishes a claimed item in the queue from inside its run (`BatchRunner.RunAndFinishItem`),
/// so that the run's end and the item's are written together; the runner reads how it went.
public final class ItemFinisher: Sendable {
    let queue: any WorkQueue
    let claim: Claim
    let slot: ItemSlot
    private let answer = Locked<Result<(ItemResult, Bool), StoreError>?>(nil)

    init(queue: any WorkQueue, claim: Claim, slot: ItemSlot) {
        self.queue = queue
        self.claim = claim
        self.slot = slot
    }

    /// Ends the item with `result` and, given `runEnd`, its run (`WorkQueue.finish`); false
    /// when this worker no longer holds the item. Once an item.
    public func finish(_ result: ItemResult, runEnd: RunEnd?) async throws(StoreError) -> Bool {
        // The run has its answer: its slot goes to the next item while the finish is written.
        slot.answered(costUSD: result.costUSD)
        let outcome: Result<(ItemResult, Bool), StoreError>
        do {
            outcome = .success((result, try await queue.finish(claim, result: result, runEnd: runEnd)))
        } catch {
            outcome = .failure(error)
        }
        answer.withLock { $0 = outcome }
        return try outcome.get().1
    }

    /// How `finish` went; nil when it was not called.
    var outcome: Result<(ItemResult, Bool), StoreError>? { answer.withLock { $0 } }
}

/// The claims this worker lost (their leases lapsed and another worker claimed the items):
/// each item's run is cancelled where it runs.
final class LostClaims: Sendable {
    private struct State {
        var lost: Set<Int> = []
        /// The tasks running items, by item: cancelled when their item is lost.
        var running: [Int: RunningTask] = [:]
    }

    /// A task that runs an item, cancelled from another task. Only used under the lock, while
    /// the task is in `cancelling` (it unregisters itself under the lock before it returns).
    private struct RunningTask: @unchecked Sendable {
        let task: UnsafeCurrentTask
    }

    private let state = Locked(State())

    /// Runs `run` in the calling task, which is cancelled if item `index` is lost meanwhile;
    /// nil when it was. No task of its own: an item's run waits (a provider batch's turnaround)
    /// with as few tasks as possible (BENCHMARKS.md, memory per waiting item).
    func cancelling(_ index: Int, _ run: () async -> ItemRun) async -> ItemRun? {
        let started = withUnsafeCurrentTask { task in
            state.withLock { state in
                guard let task, !state.lost.contains(index) else { return false }
                state.running[index] = RunningTask(task: task)
                return true
            }
        }
        guard started else { return nil }
        let result = await run()
        let lost = state.withLock { state in
            state.running[index] = nil
            return state.lost.contains(index)
        }
        return lost ? nil : result
    }

    /// Says these items are lost: their runs are cancelled.
    func lose(_ indexes: Set<Int>) {
        state.withLock { state in
            state.lost.formUnion(indexes)
            // Under the lock: a task found here has not left `cancelling` yet.
            for index in indexes { state.running.removeValue(forKey: index)?.task.cancel() }
        }
    }

    /// Items claimed again by this worker are not lost any more.
    func forget(_ indexes: [Int]) {
        state.withLock { $0.lost.subtract(indexes) }
    }
}

extension ItemResult {
    /// How an item whose pipeline run ended is reported: succeeded with the output, or
    /// failed naming the stage (a stage that failed, or stopped by the spec's per-item budget).
    public init(index: Int, runID: String?, _ result: PipelineRunner.Result) {
        let priced = result.stages.contains { $0.costUSD != nil }
        self.init(index: index, status: .failed, runID: runID, usage: result.usage, costUSD: priced ? result.costUSD : nil)
        switch result.outcome {
        case .succeeded(let output):
            status = .succeeded
            self.output = output
            // A partial result: the stages `on_error` degraded, kept in the item's `stage` and
            // `error` columns (a stage name has no comma).
            let degraded = result.degraded
            if !degraded.isEmpty {
                stage = degraded.map(\.stage).joined(separator: Self.degradedSeparator)
                error = degraded.map { "\($0.stage): \($0.status.display): \($0.error ?? "")" }.joined(separator: "; ")
            }
        case .stageFailed(let stage, let attempts, let failure):
            self.stage = stage.description
            self.error = "failed after \(attempts) attempt\(attempts == 1 ? "" : "s"): \(failure)"
        case .budgetExceeded(let stage, let failure):
            self.stage = stage?.description
            self.error = failure.description
        case .interrupted:
            error = "interrupted"
        case .waitingForApproval(let pending):
            stage = pending.first?.stage
            error = "waits for approval" + (runID.map { " (pipe approve \($0))" } ?? "")
        }
    }
}

extension ItemResult {
    static let degradedSeparator = ","

    /// The stages of a succeeded item that failed and were degraded by their `on_error`
    /// (`"degraded"` in its result line); empty for an item without any.
    public var degraded: [String] {
        guard status == .succeeded, let stage, !stage.isEmpty else { return [] }
        return stage.split(separator: Character(Self.degradedSeparator)).map(String.init)
    }
}
