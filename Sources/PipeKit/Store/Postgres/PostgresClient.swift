import Foundation

/// PostgreSQL for `--queue postgres://...`: a few libpq connections, each on a thread of its
/// own. libpq blocks on every call, so no call runs on Swift concurrency's threads (as many
/// as cores) or on the HTTP thread: `withConnection` hands its work to an idle connection's
/// thread (`JobQueue` says which), and awaits it. A connection is made when its thread first
/// has work, and made again when the server dropped it.
public final class PostgresClient: Sendable {
    /// The database, as messages name it (never with a password).
    public let location: String
    private let url: PostgresURL
    private let jobs = JobQueue()

    /// Connects (`connections` at most at once), and creates or upgrades pipe's tables.
    public static func open(url: String, connections: Int = 1) async throws(StoreError) -> PostgresClient {
        let client = try PostgresClient(url: url, connections: connections)
        try await client.withConnection { connection throws(PostgresError) in try PostgresSchema.migrate(connection) }
        return client
    }

    convenience init(url: String, connections: Int) throws(StoreError) {
        self.init(parsed: try PostgresURL(url), connections: connections)
    }

    private init(parsed url: PostgresURL, connections: Int) {
        self.url = url
        location = url.location
        for number in 0..<max(1, connections) {
            let thread = Thread { [jobs, conninfo = self.url.conninfo] in Self.serve(jobs, conninfo: conninfo) }
            thread.name = "pipe.postgres.\(number)"
            thread.start()
        }
    }

    /// Another client of the same database with one connection of its own: a session, which
    /// holds the advisory locks it takes until it closes (or its process dies).
    func session() -> PostgresClient {
        PostgresClient(parsed: url, connections: 1)
    }

    /// Stops the threads once the work already asked for is done; their connections close.
    deinit { jobs.close() }

    /// Runs `body` on an idle connection's thread. A failure to connect is `.cannotOpen`, a
    /// failed statement `.database`; neither says the password.
    @discardableResult
    func withConnection<T: Sendable>(
        _ body: @escaping @Sendable (PostgresConnection) throws(PostgresError) -> T
    ) async throws(StoreError) -> T {
        let result: Result<T, Failure> = await withCheckedContinuation { continuation in
            jobs.add { connection in
                let result: Result<T, Failure>
                switch connection {
                case .failure(let error):
                    result = .failure(.connect(error))
                case .success(let connection):
                    do throws(PostgresError) {
                        result = .success(try body(connection))
                    } catch {
                        result = .failure(.statement(error))
                    }
                }
                return { continuation.resume(returning: result) }
            }
        }
        return try result.mapError(storeError).get()
    }

    /// Runs one statement that only reads, on an idle connection: its rows.
    func query(_ sql: String, _ parameters: [any PostgresParameter] = []) async throws(StoreError) -> [PostgresRow] {
        try await withConnection { connection throws(PostgresError) in try connection.query(sql, parameters) }
    }

    /// Runs a statement that changes the database as a write: the writes asked for while a
    /// group of them is being written are written together, sent at once (one round trip) in
    /// one transaction, with one commit (which waits for the disk) for all. One group is
    /// written at a time, each by the next idle connection. When one of them fails, the group
    /// is rolled back and each write made again on its own, so that it takes nothing else with it.
    @discardableResult
    func write(_ sql: String, _ parameters: [any PostgresParameter] = []) async throws(StoreError) -> PostgresResult {
        try await write(PostgresStatement(sql, parameters))
    }

    @discardableResult
    func write(_ statement: PostgresStatement) async throws(StoreError) -> PostgresResult {
        try await write([statement])[0]
    }

    /// Several writes queued at once, in order (in one group, unless the group is full: then
    /// the rest in the next), waited for together; the first failure is thrown.
    func write(_ statements: [PostgresStatement]) async throws(StoreError) -> [PostgresResult] {
        let results = await withCheckedContinuation { continuation in
            let answers = Locked<[Result<PostgresResult, StoreError>?]>(Array(repeating: nil, count: statements.count))
            enqueue(statements) { index, result in
                let all = answers.withLock { answers in
                    answers[index] = result
                    return answers.contains { $0 == nil } ? nil : answers.compactMap { $0 }
                }
                if let all { continuation.resume(returning: all) }
            }
        }
        return try results.map { result throws(StoreError) in try result.get() }
    }

    /// Queues a write (as `write` does) and returns at once; `done` is told how it went, on a
    /// connection's thread, once it is committed. Writes are committed in the order queued.
    func enqueue(_ statement: PostgresStatement, done: @escaping @Sendable (Result<PostgresResult, StoreError>) -> Void) {
        enqueue([statement]) { _, result in done(result) }
    }

    /// Queues writes one after another, none between them; `done` is told how each went (by
    /// its position).
    private func enqueue(
        _ statements: [PostgresStatement], done: @escaping @Sendable (Int, Result<PostgresResult, StoreError>) -> Void
    ) {
        let queued = statements.enumerated().map { index, statement in
            QueuedWrite(statement: statement) { [self] result in done(index, result.mapError(storeError)) }
        }
        let first = writes.withLock { state in
            state.queued += queued
            defer { state.writing = true }
            return !state.writing
        }
        if first { jobs.add { [self] connection in writeQueued(connection) } }
    }

    /// A write asked for and not yet begun.
    private struct QueuedWrite: Sendable {
        let statement: PostgresStatement
        let done: @Sendable (Result<PostgresResult, Failure>) -> Void
    }

    /// The writes asked for since the last group began, and whether a group is being written
    /// (or waits for a connection): the next group begins when it ends.
    private let writes = Locked<(queued: [QueuedWrite], writing: Bool)>(([], false))

    /// Writes in a group at most: what a round trip sends stays well within the socket's buffers.
    static let groupLimit = 100

    /// Writes the queued writes (up to `groupLimit`) as one group; once its thread is idle
    /// again, tells each how it went and hands the next group (if any were asked for meanwhile)
    /// to the next idle connection, behind the reads that wait.
    private func writeQueued(_ connection: Result<PostgresConnection, PostgresError>) -> JobQueue.Completion {
        let group = writes.withLock { state in
            let taken = Array(state.queued.prefix(Self.groupLimit))
            state.queued.removeFirst(taken.count)
            return taken
        }
        let results: [Result<PostgresResult, Failure>] = switch connection {
        case .failure(let error): group.map { _ in .failure(.connect(error)) }
        case .success(let connection): Self.write(group, on: connection)
        }
        return { [self] in
            for (write, result) in zip(group, results) { write.done(result) }
            let more = writes.withLock { state in
                state.writing = !state.queued.isEmpty
                return state.writing
            }
            if more { jobs.add { [self] connection in writeQueued(connection) } }
        }
    }

    /// One transaction for the group (a write alone needs none); when a write fails, each
    /// again on its own. How each write went, in the group's order.
    private static func write(_ group: [QueuedWrite], on connection: PostgresConnection) -> [Result<PostgresResult, Failure>] {
        do throws(PostgresError) {
            if group.count == 1 {
                let statement = group[0].statement
                return [.success(try connection.result(statement.sql, statement.parameters))]
            }
            let (sent, positions) = rows(group.map(\.statement))
            let results = try connection.transaction(sendingTogether: sent)
            return zip(group, positions).map { write, position in
                // A row sent with others: it is one row inserted.
                let alone = sent[position].parameters.count == write.statement.parameters.count
                return .success(alone ? results[position] : PostgresResult(rows: [], affected: 1))
            }
        } catch {
            guard group.count > 1 else { return [.failure(.statement(error))] }
            return group.map { write in
                do throws(PostgresError) {
                    return .success(try connection.result(write.statement.sql, write.statement.parameters))
                } catch {
                    return .failure(.statement(error))
                }
            }
        }
    }

    /// Rows of one insert's head sent together at most (its statement prepared once for each size).
    static let rowChunks = [16, 4, 1]

    /// A group's statements as sent: the rows of one insert's head (`PostgresStatement.row`) as
    /// one statement (in chunks of `rowChunks` rows) where the first of them was, the others in
    /// their order; and where each statement of the group went. Rows of one table keep their
    /// order; a group is one transaction, so it commits them all or none, wherever they stand.
    static func rows(_ statements: [PostgresStatement]) -> (sent: [PostgresStatement], positions: [Int]) {
        var byHead: [String: [Int]] = [:]
        for (index, statement) in statements.enumerated() {
            if let head = statement.insertHead { byHead["\(statement.parameters.count) \(head)", default: []].append(index) }
        }
        guard byHead.values.contains(where: { $0.count > 1 }) else { return (statements, Array(statements.indices)) }
        var chunks: [Int: [Int]] = [:]
        for indexes in byHead.values {
            var rest = indexes[...]
            while let size = rowChunks.first(where: { $0 <= rest.count }) {
                chunks[rest[rest.startIndex]] = Array(rest.prefix(size))
                rest = rest.dropFirst(size)
            }
        }
        var sent: [PostgresStatement] = []
        var positions = Array(repeating: 0, count: statements.count)
        for (index, statement) in statements.enumerated() {
            if let chunk = chunks[index] {
                for member in chunk { positions[member] = sent.count }
                sent.append(chunk.count == 1 ? statement : .rows(chunk.map { statements[$0] }))
            } else if statement.insertHead == nil {
                positions[index] = sent.count
                sent.append(statement)
            }
        }
        return (sent, positions)
    }

    private func storeError(_ failure: Failure) -> StoreError {
        switch failure {
        case .connect(let error): .cannotOpen(path: location, reason: url.redacted(error.message))
        case .statement(let error): .database(path: location, reason: url.redacted(error.message))
        }
    }

    private enum Failure: Error {
        case connect(PostgresError)
        case statement(PostgresError)
    }

    /// One connection's thread: takes work until the client is gone.
    private static func serve(_ jobs: JobQueue, conninfo: String) {
        var connection: PostgresConnection?
        let wake = DispatchSemaphore(value: 0)
        var finished: JobQueue.Completion?
        while let job = jobs.next(wake: wake, connected: connection != nil, then: finished) {
            if connection?.isBroken ?? true {
                connection = nil
                do throws(PostgresError) {
                    connection = try PostgresConnection(conninfo)
                } catch {
                    finished = job(.failure(error))
                    continue
                }
            }
            finished = connection.map { job(.success($0)) }
        }
    }
}

/// Work waiting for a connection's thread, first come first served. Each idle thread waits
/// on a semaphore of its own, and the connected one idle the shortest time takes the next job
/// (a thread that never connected only when none is idle): work that comes one job after
/// another (a worker's start, its groups of writes one at a time) stays on one connection, and
/// another is made only when jobs overlap. A connection is a server process that PostgreSQL
/// forks, and its first job waits for the connect. A job's completion (resuming whoever waits
/// for it, who may ask for the next job at once) runs once its thread is idle again, so that
/// the next job finds it there.
private final class JobQueue: Sendable {
    /// A job does its work on the connection and returns what tells its caller.
    typealias Job = @Sendable (Result<PostgresConnection, PostgresError>) -> Completion
    typealias Completion = @Sendable () -> Void

    private struct State {
        var jobs: [Job] = []
        var head = 0
        /// The idle threads' semaphores: the connected ones in the order they went idle (the
        /// last on top), below them those that never connected.
        var idle: [DispatchSemaphore] = []
        var closed = false
    }

    private let lock = NSLock()
    private nonisolated(unsafe) var state = State()

    func add(_ job: @escaping Job) {
        let idle = lock.withLock {
            state.jobs.append(job)
            return state.idle.popLast()
        }
        idle?.signal()
    }

    /// The next job, waiting on `wake` for one; nil once closed and drained. A thread woken
    /// for a job that another thread took first goes back to wait. `finished`, the completion
    /// of the thread's last job, runs once the thread is idle again (or has its next job).
    func next(wake: DispatchSemaphore, connected: Bool, then finished: Completion?) -> Job? {
        var finished = finished
        while true {
            let taken: Job?? = lock.withLock {
                if state.head < state.jobs.count {
                    let job = state.jobs[state.head]
                    state.head += 1
                    if state.head == state.jobs.count {
                        state.jobs.removeAll(keepingCapacity: true)
                        state.head = 0
                    }
                    return .some(job)
                }
                if state.closed { return .some(nil) }
                if connected { state.idle.append(wake) } else { state.idle.insert(wake, at: 0) }
                return nil
            }
            if let done = finished {
                finished = nil
                done()
            }
            if let taken { return taken }
            wake.wait()
        }
    }

    func close() {
        let idle = lock.withLock {
            state.closed = true
            defer { state.idle.removeAll() }
            return state.idle
        }
        for thread in idle { thread.signal() }
    }
}
