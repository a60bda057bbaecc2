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
            canceled requests again. Exit 0 when every batch was canceled, 1 when one could not be.

            Examples:
              pipe batch cancel last
              pipe batch cancel b20261203-0412 --store runs.db
            """)

    @OptionGroup var location: BatchLocation

    func run() async throws {
        let (backend, info) = try await location.find()
        guard case .embedded(let queue) = backend else {
            try Terminal.writeError("pipe: provider batches are not used with --queue; nothing to cancel\n")
            throw ExitCodeError(code: 2)
        }
        let batches = try await BatchSession.orExit { () async throws(StoreError) in try queue.providerBatchesInFlight(of: info.id) }
        guard !batches.isEmpty else {
            try Terminal.writeError("pipe: batch \(info.id) has no provider batch in flight\n")
            return
        }
        let pipeline = try SpecFile.compileOrExit(info.specPath, quiet: true)
        let factory = ProviderFactory(environment: ProcessInfo.processInfo.environment)
        var failed = false
        for (batch, error) in await ProviderBatching.cancel(batches, pipeline: pipeline, factory: factory) {
            if let error {
                failed = true
                try Terminal.writeError("pipe: provider batch \(batch.id) (\(batch.provider) \(batch.model)) could not be canceled: \(error)\n")
                continue
            }
            try await BatchSession.orExit { () async throws(StoreError) in try await queue.setProviderBatch(batch.id, .canceled) }
            try Terminal.writeError("pipe: canceled provider batch \(batch.id) (\(batch.provider) \(batch.model), \(batch.customIDs.count) requests)\n")
        }
        if failed { throw ExitCodeError(code: 1) }
    }
}
