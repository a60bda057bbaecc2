/// A provider's asynchronous batch API (Anthropic Message Batches, OpenAI Batch): half the
/// price of real-time calls, answered within hours. `ProviderBatcher` submits requests through
/// it, polls, and reads the results back, each matched by its `custom_id`.
protocol ProviderBatchAPI: Sendable {
    var provider: Provider { get }
    /// The request's body as a batch carries it (never streamed).
    func body(for request: ModelRequest) -> JSONValue
    /// Creates a batch of `requests`; returns its id.
    func submit(_ requests: [BatchedRequest]) async throws(ProviderError) -> String
    func status(_ id: String) async throws(ProviderError) -> ProviderBatchStatus
    /// The results of an ended batch, by `custom_id`.
    func results(_ id: String) async throws(ProviderError) -> [String: BatchedResult]
    func cancel(_ id: String) async throws(ProviderError)
    /// The reply a succeeded request's result holds (an Anthropic message, an OpenAI completion).
    func reply(fromWhole body: JSONValue, request: ModelRequest) async throws(ProviderError) -> ModelReply
}

/// One request of a provider batch: its body kept once, as the JSON text the batch file
/// carries (not as a tree of values), while it waits for its batch.
public struct BatchedRequest: Sendable, Equatable {
    public var customID: String
    /// The request's body, serialized.
    public var json: String
    /// The `pipe batch` item whose run asks it, if any: on a shared queue, the lead counts the
    /// items in flight that wait on no request by it.
    public var item: Int?

    public init(customID: String, json: String, item: Int? = nil) {
        self.customID = customID
        self.json = json
        self.item = item
    }

    /// The bytes the request adds to the batch (its JSON text and framing).
    var bytes: Int { json.utf8.count + customID.utf8.count + 40 }
}

/// How far a provider batch has come.
public struct ProviderBatchStatus: Sendable, Equatable {
    /// The provider's word for where it stands (`in_progress`, `ended`, `finalizing`...).
    public var state: String
    public var ended: Bool
    public var total: Int
    public var succeeded: Int
    public var errored: Int
    public var expired: Int
    public var canceled: Int

    public init(state: String, ended: Bool, total: Int, succeeded: Int, errored: Int, expired: Int, canceled: Int) {
        self.state = state
        self.ended = ended
        self.total = total
        self.succeeded = succeeded
        self.errored = errored
        self.expired = expired
        self.canceled = canceled
    }

    /// The requests answered one way or another so far.
    public var done: Int { succeeded + errored + expired + canceled }
}

/// What became of one request of a provider batch.
enum BatchedResult: Sendable {
    case succeeded(JSONValue)
    case errored(ProviderError)
    case expired
    case canceled
}

/// The most one provider batch may hold: Anthropic 100,000 requests or 256 MB, OpenAI 50,000
/// requests or 200 MB. `PIPE_PROVIDER_BATCH_MAX_REQUESTS` and `PIPE_PROVIDER_BATCH_MAX_BYTES`
/// lower them (tests, or an account with lower limits).
public struct ProviderBatchLimits: Sendable, Equatable {
    public var maxRequests: Int
    public var maxBytes: Int

    public init(maxRequests: Int, maxBytes: Int) {
        self.maxRequests = max(1, maxRequests)
        self.maxBytes = max(1, maxBytes)
    }

    public static let anthropic = ProviderBatchLimits(maxRequests: 100_000, maxBytes: 256_000_000)
    public static let openAI = ProviderBatchLimits(maxRequests: 50_000, maxBytes: 200_000_000)

    /// The limits, lowered by the environment.
    public func lowered(by environment: [String: String]) -> ProviderBatchLimits {
        var limits = self
        if let text = environment["PIPE_PROVIDER_BATCH_MAX_REQUESTS"], let value = Int(text), value > 0 {
            limits.maxRequests = min(limits.maxRequests, value)
        }
        if let text = environment["PIPE_PROVIDER_BATCH_MAX_BYTES"], let value = Int(text), value > 0 {
            limits.maxBytes = min(limits.maxBytes, value)
        }
        return limits
    }

    /// `requests` in order, cut into batches within the limits (a request larger than
    /// `maxBytes` alone goes in a batch of its own, which the provider then refuses).
    func split(_ requests: [BatchedRequest], overhead: Int = 64) -> [[BatchedRequest]] {
        var batches: [[BatchedRequest]] = []
        var current: [BatchedRequest] = []
        var bytes = overhead
        for request in requests {
            if !current.isEmpty, current.count == maxRequests || bytes + request.bytes > maxBytes {
                batches.append(current)
                current = []
                bytes = overhead
            }
            current.append(request)
            bytes += request.bytes
        }
        if !current.isEmpty { batches.append(current) }
        return batches
    }
}

/// Talks JSON to a batch API: the key header and the provider's error mapping.
struct BatchHTTP: Sendable {
    let endpoint: ProviderEndpoint
    let keyHeader: @Sendable (APIKey) -> (name: String, value: String)
    let extraHeaders: [(name: String, value: String)]
    let mapper: ProviderErrorMapper

    /// The whole body of a 2xx response to `method url`, else the mapped error.
    func send(_ method: String, _ url: String, body: [UInt8] = [], contentType: String = "application/json")
        async throws(ProviderError) -> [UInt8]
    {
        if Task.isCancelled { throw .cancelled }
        var headers = HTTPHeaders(extraHeaders)
        if !body.isEmpty { headers.set(name: "content-type", value: contentType) }
        if let key = endpoint.apiKey {
            let header = keyHeader(key)
            headers.set(name: header.name, value: header.value)
        }
        // A results file may be large: up to the batch's own limit and its replies.
        let request = HTTPRequest(
            url: url, method: method, headers: headers, body: body, timeout: .seconds(300), maxResponseBytes: 2_000_000_000)
        let response: HTTPResponse
        do {
            response = try await endpoint.client.send(request)
        } catch {
            throw mapper.map(error)
        }
        guard (200..<300).contains(response.status) else { throw mapper.map(response) }
        return response.body
    }

    func json(_ method: String, _ url: String, body: JSONValue? = nil) async throws(ProviderError) -> JSONValue {
        try await json(method, url, bytes: body.map { Array($0.serialized().utf8) } ?? [])
    }

    func json(_ method: String, _ url: String, bytes body: [UInt8]) async throws(ProviderError) -> JSONValue {
        let bytes = try await send(method, url, body: body)
        do {
            return try JSONParser.parse(bytes)
        } catch {
            throw mapper.invalidResponse("the batch API answered with no JSON: \(String(decoding: bytes.prefix(200), as: UTF8.self))")
        }
    }

    /// The lines of a JSON Lines body, each parsed (a line that is not JSON is an error).
    func lines(_ bytes: [UInt8]) throws(ProviderError) -> [JSONValue] {
        var values: [JSONValue] = []
        for line in bytes.split(separator: UInt8(ascii: "\n")) where !line.allSatisfy({ $0 == 13 || $0 == 32 }) {
            do {
                values.append(try JSONParser.parse(Array(line)))
            } catch {
                throw mapper.invalidResponse("a results line is not JSON: \(String(decoding: line.prefix(200), as: UTF8.self))")
            }
        }
        return values
    }
}
