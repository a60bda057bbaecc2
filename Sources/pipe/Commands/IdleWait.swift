/// How long a worker with nothing to claim waits before it looks again. While items it could
/// not claim are still running elsewhere (other workers hold them), it looks again soon and
/// then less and less often: such items usually end within a call's time, and a worker with
/// `--exit-when-idle` (or `pipe batch` on a shared queue) ends as soon as they have. With
/// nothing running anywhere it looks every `WorkerCommand.poll`.
struct IdleWait {
    static let first = Duration.milliseconds(50)
    private(set) var next = IdleWait.first

    /// The wait before the next look, given whether items are running elsewhere; each wait
    /// while they do doubles, up to `WorkerCommand.poll`.
    mutating func wait(othersRunning: Bool) -> Duration {
        guard othersRunning else {
            next = Self.first
            return WorkerCommand.poll
        }
        defer { next = min(next * 2, WorkerCommand.poll) }
        return next
    }
}
