/// Anthropic's Message Batches API: `POST /v1/messages/batches` with `{requests: [{custom_id,
/// params}]}`, `GET .../{id}` (its `processing_status` and `request_counts`), the results as
/// JSON Lines at its `results_url` once ended, `POST .../{id}/cancel`.
struct AnthropicBatchAPI: ProviderBatchAPI {
    let realtime: AnthropicProvider
    var provider: Provider { .anthropic }

    init(endpoint: ProviderEndpoint) {
        realtime = AnthropicProvider(endpoint: endpoint)
    }

    private var http: BatchHTTP {
        BatchHTTP(
            endpoint: realtime.endpoint, keyHeader: AnthropicProvider.keyHeader,
            extraHeaders: [(name: "anthropic-version", value: AnthropicProvider.apiVersion)], mapper: realtime.mapper)
    }

    private var batchesURL: String { ProviderURL.join(realtime.baseURL, "/v1/messages/batches") }

    func body(for request: ModelRequest) -> JSONValue {
        guard case .object(var body) = AnthropicRequestBody.make(request, schema: request.outputSchema.map(ObjectRootSchema.init)) else {
            return .null
        }
        body["stream"] = nil
        return .object(body)
    }

    func submit(_ requests: [BatchedRequest]) async throws(ProviderError) -> String {
        // Written once, straight into the bytes sent: each request's body is already JSON text.
        var body: [UInt8] = []
        body.reserveCapacity(requests.reduce(16) { $0 + $1.bytes })
        body += #"{"requests":["#.utf8
        for (index, request) in requests.enumerated() {
            if index > 0 { body.append(UInt8(ascii: ",")) }
            body += #"{"custom_id":"#.utf8
            body += JSONValue.string(request.customID).serialized().utf8
            body += #","params":"#.utf8
            body += request.json.utf8
            body.append(UInt8(ascii: "}"))
        }
        body += "]}".utf8
        let batch = try await http.json("POST", batchesURL, bytes: body)
        guard let id = batch["id"]?.stringValue else { throw realtime.mapper.invalidResponse("the created batch has no id") }
        return id
    }

    func status(_ id: String) async throws(ProviderError) -> ProviderBatchStatus {
        let batch = try await http.json("GET", batchesURL + "/" + id)
        let counts = batch["request_counts"]
        func count(_ key: String) -> Int { counts?[key]?.numberValue?.intValue ?? 0 }
        let ended = batch["processing_status"]?.stringValue == "ended"
        let done = ["succeeded", "errored", "expired", "canceled"].map(count).reduce(0, +)
        return ProviderBatchStatus(
            state: batch["processing_status"]?.stringValue ?? "unknown", ended: ended, total: done + count("processing"),
            succeeded: count("succeeded"), errored: count("errored"), expired: count("expired"), canceled: count("canceled"))
    }

    func results(_ id: String) async throws(ProviderError) -> [String: BatchedResult] {
        let batch = try await http.json("GET", batchesURL + "/" + id)
        let url = batch["results_url"]?.stringValue ?? (batchesURL + "/" + id + "/results")
        var results: [String: BatchedResult] = [:]
        for line in try http.lines(try await http.send("GET", url)) {
            guard let customID = line["custom_id"]?.stringValue else { continue }
            let result = line["result"]
            switch result?["type"]?.stringValue {
            case "succeeded": results[customID] = .succeeded(result?["message"] ?? .null)
            case "errored": results[customID] = .errored(realtime.mapper.streamError(result?["error"] ?? .null))
            case "expired": results[customID] = .expired
            default: results[customID] = .canceled
            }
        }
        return results
    }

    func cancel(_ id: String) async throws(ProviderError) {
        _ = try await http.json("POST", batchesURL + "/" + id + "/cancel")
    }

    func reply(fromWhole body: JSONValue, request: ModelRequest) async throws(ProviderError) -> ModelReply {
        var reader = AnthropicReplyReader()
        reader.read(whole: body)
        return try await realtime.reply(from: reader, request: request, schema: request.outputSchema.map(ObjectRootSchema.init))
    }
}
