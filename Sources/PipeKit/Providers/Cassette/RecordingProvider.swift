/// A provider that writes every exchange of the provider it wraps to a cassette
/// (`pipe run --record FILE`), one JSON line a call as it ends. A failed call is written with
/// its typed error (an HTTP status, a timeout, a broken reply), so that a replay fails the same
/// attempts and the retries and fallbacks go the same way; a call cancelled because the run
/// stopped is not an exchange and is not written.
public final class RecordingProvider: ModelProvider {
    let inner: any ModelProvider
    let output: CassetteRecorder
    /// The run's `record:`: prompts and replies written as their hashes when it says so.
    let policy: RecordPolicy

    public init(_ inner: any ModelProvider, recorder: CassetteRecorder, policy: RecordPolicy) {
        self.inner = inner
        self.output = recorder
        self.policy = policy
    }

    public func complete(_ request: ModelRequest, progress: @escaping @Sendable (StreamProgress) -> Void)
        async throws(ProviderError) -> ModelReply
    {
        do throws(ProviderError) {
            let reply = try await inner.complete(request, progress: progress)
            output.record(CassetteEntry(request: request, outcome: .reply(reply)).recorded(under: policy).json)
            return reply
        } catch {
            if case .cancelled = error { throw error }
            output.record(CassetteEntry(request: request, outcome: .failure(error)).recorded(under: policy).json)
            throw error
        }
    }
}

/// The cassette file a run records to, shared by its providers; a line a call, written whole.
public final class CassetteRecorder: Sendable {
    private let file: Locked<OutputFile>
    private let failure = Locked<WriteError?>(nil)

    public init(creating path: String) throws(WriteError) {
        file = Locked(try OutputFile(creating: path, name: "the cassette \(path)"))
    }

    func record(_ line: JSONValue) {
        let line = line.serialized() + "\n"
        file.withLock { file in
            do throws(WriteError) {
                try file.write(line)
            } catch {
                failure.withLock { $0 = $0 ?? error }
            }
        }
    }

    /// Closes the file; the first write that failed, if one did.
    public func finish() throws(WriteError) {
        if let error: WriteError = failure.withLock({ $0 }) { throw error }
        let closed: WriteError? = file.withLock { file in
            do throws(WriteError) {
                try file.close()
                return nil
            } catch {
                return error
            }
        }
        if let closed { throw closed }
    }
}
