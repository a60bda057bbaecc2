import ArgumentParser
import Foundation
import PipeKit

/// `pipe batch cancel`: cancels the provider batches a batch has in flight.
struct BatchCancelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cancel",
        abstract: "Cancel the provider batches (--provider-batch) a batch has in flight.",
        discussion: """
            Each provider batch the run store records as in flight for the batch is canceled \
            through its provider's API (the spec's model settings and the API key variables say \
            where and with which key); the requests it had not answered yet are not billed. Stop \
            the `pipe batch` process first (Ctrl-C): `pipe batch --resume` then submits the \
            canceled requests again. With --queue (or PIPE_QUEUE), the provider batches the \
            workers recorded in PostgreSQL are canceled, with the spec the batch carries; stop \
            the workers first. Exit 0 when every batch was canceled, 1 when one could not be.

            Examples:
              pipe batch cancel last
              pipe batch cancel b20261203-0412 --store runs.db
              pipe batch cancel last --queue postgres://pipe@db.internal:5432/pipe
            """)

    @OptionGroup var location: BatchLocation

    func run() async throws {
        let (backend, info) = try await location.find()
        let batches: [SubmittedProviderBatch]
        let pipeline: CompiledPipeline
        let setState: @Sendable (String, SQLiteWorkQueue.ProviderBatchState) async throws(StoreError) -> Void
        switch backend {
        case .embedded(let queue):
            batches = try await BatchSession.orExit { () async throws(StoreError) in try queue.providerBatchesInFlight(of: info.id) }
            pipeline = try SpecFile.compileOrExit(info.specPath, quiet: true)
            setState = { id, state throws(StoreError) in try await queue.setProviderBatch(id, state) }
        case .postgres(let queue, _):
            batches = try await BatchSession.orExit { () async throws(StoreError) in
                try await PostgresProviderBatches.inFlight(batch: info.id, client: queue.client)
            }
            // The spec the batch carries, as the workers run it.
            pipeline = try BatchSpec.compile(info)
            setState = { id, state throws(StoreError) in try await PostgresProviderBatches.set(id, state, client: queue.client) }
        }
        guard !batches.isEmpty else {
            try Terminal.writeError("pipe: batch \(info.id) has no provider batch in flight\n")
            return
        }
        let factory = ProviderFactory(environment: ProcessInfo.processInfo.environment)
        var failed = false
        for (batch, error) in await ProviderBatching.cancel(batches, pipeline: pipeline, factory: factory) {
            if let error {
                failed = true
                try Terminal.writeError("pipe: provider batch \(batch.id) (\(batch.provider) \(batch.model)) could not be canceled: \(error)\n")
                continue
            }
            try await BatchSession.orExit { () async throws(StoreError) in try await setState(batch.id, .canceled) }
            try Terminal.writeError("pipe: canceled provider batch \(batch.id) (\(batch.provider) \(batch.model), \(batch.customIDs.count) requests)\n")
        }
        if failed { throw ExitCodeError(code: 1) }
    }
}
