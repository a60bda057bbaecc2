/// Where the provider batch requests of many workers meet (`pipe worker` on a PostgreSQL
/// queue): each worker hands its batched requests in, one worker at a time — the one that
/// leads a model's batches — submits them all as provider batches, polls them and writes each
/// result back, and each worker reads the results of its own requests. `model` is a model's
/// key across workers: its provider and model id.
public protocol ProviderBatchExchange: Sendable {
    /// Takes (or keeps) the lead of `model`'s batches: true while this process holds it. A
    /// process that dies lets go of it at once (another worker takes it over).
    func lead(model: String) async throws(StoreError) -> Bool
    /// Hands requests in (a custom_id already handed in, by this worker or one that died, is
    /// kept as it is: its batch and result are shared, not submitted again).
    func share(_ requests: [BatchedRequest], model: String) async throws(StoreError)
    /// The results written back so far for these custom_ids (as `ProviderBatchResultText`).
    func results(of customIDs: [String], model: String) async throws(StoreError) -> [String: String]
    /// Requests whose result was an error, handed out: gone, so that a resumed item asks again.
    func forget(_ customIDs: [String], model: String) async throws(StoreError)
    /// How many provider batches have had all their results written back (`collected`): a
    /// worker reads its results again when this grows, not on every look.
    func collectedBatches() async throws(StoreError) -> Int

    // The lead's side.
    /// How many requests wait for a batch, and how many items in flight (on any worker) wait
    /// on no batched request: items that may still hand a request in.
    func backlog(model: String) async throws(StoreError) -> ProviderBatchBacklog
    /// The requests that wait for a batch, oldest first, at most `limit`.
    func pending(model: String, limit: Int) async throws(StoreError) -> [BatchedRequest]
    /// A provider batch was created with these requests: recorded (before it is polled), its
    /// requests no longer pending.
    func submitted(_ batch: SubmittedProviderBatch, model: String) async throws(StoreError)
    /// The provider batches of `model` recorded and not collected: a new lead polls them again.
    func inFlight(model: String) async throws(StoreError) -> [SubmittedProviderBatch]
    /// Results written back, by custom_id.
    func answer(_ results: [String: String], model: String) async throws(StoreError)
    /// A provider batch whose results were all written back.
    func collected(_ batchID: String) async throws(StoreError)
}

/// What waits for a model's next provider batch on a shared queue.
public struct ProviderBatchBacklog: Sendable, Equatable {
    /// Requests handed in and not submitted yet.
    public var requests: Int
    /// Items claimed by any worker that wait on no batched request (a stage before the
    /// batched one still running, a request not handed in yet, a result not read yet): while
    /// there are any, more requests may come for this round.
    public var busyItems: Int

    public init(requests: Int, busyItems: Int) {
        self.requests = requests
        self.busyItems = busyItems
    }
}

/// A provider batch result as the exchange carries it between workers: a JSON object with
/// one member, `succeeded` (the reply's body), `errored` (`code`, `message`, `kind`),
/// `expired` or `canceled`.
enum ProviderBatchResultText {
    static func encode(_ result: BatchedResult) -> String {
        let value: JSONValue
        switch result {
        case .succeeded(let body): value = ["succeeded": body]
        case .expired: value = ["expired": true]
        case .canceled: value = ["canceled": true]
        case .errored(let error):
            var fields: [(String, JSONValue)] = []
            switch error {
            case .status(let code, _, let message, _):
                fields = [("kind", "status"), ("code", .number(JSONNumber(code))), ("message", .string(message))]
            case .transport(let message): fields = [("kind", "transport"), ("message", .string(message))]
            case .timedOut: fields = [("kind", "timed_out")]
            case .invalidResponse(let message): fields = [("kind", "invalid_response"), ("message", .string(message))]
            case .cancelled: fields = [("kind", "cancelled")]
            case .missingAPIKey, .invalidRequest, .circuitOpen:
                fields = [("kind", "invalid_request"), ("message", .string(error.description))]
            }
            value = ["errored": .object(JSONObject(fields))]
        }
        return value.serialized()
    }

    static func decode(_ text: String, provider: Provider) -> BatchedResult {
        guard let value = try? JSONParser.parse(text) else { return .errored(.invalidResponse("an unreadable batch result")) }
        if let body = value["succeeded"] { return .succeeded(body) }
        if value["expired"] != nil { return .expired }
        guard let error = value["errored"] else { return .canceled }
        let message = error["message"]?.stringValue ?? ""
        switch error["kind"]?.stringValue {
        case "status":
            return .errored(.status(code: error["code"]?.numberValue?.intValue ?? 500, provider: provider, message: message, retryAfter: nil))
        case "transport": return .errored(.transport(message))
        case "timed_out": return .errored(.timedOut)
        case "invalid_response": return .errored(.invalidResponse(message))
        case "cancelled": return .errored(.cancelled)
        default: return .errored(.invalidRequest(message))
        }
    }
}
