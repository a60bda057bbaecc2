/// How long a worker with nothing to claim waits before it looks again: `pipe worker`
/// between its looks at the open batches, and `pipe batch` on a shared queue while other
/// workers hold its batch's last items. While items it could not claim are still running
/// elsewhere (other workers hold them), it looks again soon and then less and less often:
/// such items usually end within a call's time, and a worker with `--exit-when-idle` (or
/// `pipe batch`, which ends with its batch) ends as soon as they have. With nothing running
/// anywhere it looks every `poll`.
public struct IdleWait: Sendable {
    /// The first wait while items run elsewhere.
    public static let first = Duration.milliseconds(50)
    /// The longest wait: an idle worker looks for new batches this often.
    public static let poll = Duration.seconds(1)
    public private(set) var next = IdleWait.first

    public init() {}

    /// The wait before the next look, given whether items are running elsewhere; each wait
    /// while they do doubles, up to `poll`.
    public mutating func wait(othersRunning: Bool) -> Duration {
        guard othersRunning else {
            next = Self.first
            return Self.poll
        }
        defer { next = min(next * 2, Self.poll) }
        return next
    }
}
