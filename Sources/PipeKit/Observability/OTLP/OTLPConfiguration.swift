import Foundation

/// Where and how spans are exported, from the standard OpenTelemetry environment variables
/// (OTLP exporter and batch span processor): only OTLP over HTTP, protobuf or JSON.
public struct OTLPConfiguration: Sendable {
    public enum Encoding: String, Sendable {
        case protobuf = "http/protobuf"
        case json = "http/json"
    }

    /// The traces URL requests go to (`.../v1/traces`).
    public var url: String
    /// `OTEL_EXPORTER_OTLP_HEADERS` and `..._TRACES_HEADERS`: sent, never printed.
    public var headers: [(name: String, value: String)]
    public var encoding: Encoding
    public var resource: OTLPResource
    /// The longest one export request may take (`OTEL_EXPORTER_OTLP_TRACES_TIMEOUT`,
    /// `OTEL_EXPORTER_OTLP_TIMEOUT`, milliseconds; 10 s).
    public var timeout: Duration
    /// How long the exit waits for the last spans to be sent (`OTEL_BSP_EXPORT_TIMEOUT`,
    /// milliseconds; 2 s): a slow or silent collector delays the exit by no more.
    public var flushDeadline: Duration
    /// Spans kept waiting for export at most (`OTEL_BSP_MAX_QUEUE_SIZE`, 2048); more are dropped and counted.
    public var maxQueueSize: Int
    /// Spans per request at most (`OTEL_BSP_MAX_EXPORT_BATCH_SIZE`, 512).
    public var maxBatchSize: Int
    /// How long a span waits for its batch to fill (`OTEL_BSP_SCHEDULE_DELAY`, milliseconds; 5 s).
    public var scheduleDelay: Duration
    /// `OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true`: prompts and replies go into the
    /// spans (`gen_ai.input.messages`, `gen_ai.output.messages`); never otherwise.
    public var captureContent: Bool

    public init(
        url: String, headers: [(name: String, value: String)] = [], encoding: Encoding = .protobuf,
        resource: OTLPResource = OTLPResource(attributes: [("service.name", .string("pipe"))]), timeout: Duration = .seconds(10),
        flushDeadline: Duration = .seconds(2), maxQueueSize: Int = 2048, maxBatchSize: Int = 512,
        scheduleDelay: Duration = .seconds(5), captureContent: Bool = false
    ) {
        self.url = url
        self.headers = headers
        self.encoding = encoding
        self.resource = resource
        self.timeout = timeout
        self.flushDeadline = flushDeadline
        self.maxQueueSize = maxQueueSize
        self.maxBatchSize = maxBatchSize
        self.scheduleDelay = scheduleDelay
        self.captureContent = captureContent
    }

    /// The most header fields and resource attributes read from a variable.
    static let maxListEntries = 64

    /// The configuration the environment asks for: nil when no endpoint is set, or export is
    /// off (`OTEL_SDK_DISABLED=true`, `OTEL_TRACES_EXPORTER=none`), or cannot be done (gRPC, a
    /// malformed value: then with one warning saying why).
    public static func fromEnvironment(_ environment: [String: String]) -> (configuration: OTLPConfiguration?, warning: String?) {
        func value(_ name: String) -> String? {
            guard let text = environment[name]?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return nil }
            return text
        }
        if value("OTEL_SDK_DISABLED")?.lowercased() == "true" || value("OTEL_TRACES_EXPORTER")?.lowercased() == "none" {
            return (nil, nil)
        }
        let url: String
        let urlVariable: String
        if let traces = value("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") {
            (url, urlVariable) = (traces, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
        } else if let base = value("OTEL_EXPORTER_OTLP_ENDPOINT") {
            (url, urlVariable) = (base + (base.hasSuffix("/") ? "" : "/") + "v1/traces", "OTEL_EXPORTER_OTLP_ENDPOINT")
        } else {
            return (nil, nil)
        }
        let prefix = "pipe: OpenTelemetry: "
        guard url.lowercased().hasPrefix("http://") || url.lowercased().hasPrefix("https://"), url.utf8.count <= 2048 else {
            return (nil, prefix + "\(urlVariable) must be an http:// or https:// URL; no spans are exported")
        }
        let protocolVariable = value("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") != nil ? "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL" : "OTEL_EXPORTER_OTLP_PROTOCOL"
        let protocolName = value(protocolVariable) ?? "http/protobuf"
        guard let encoding = Encoding(rawValue: protocolName.lowercased()) else {
            let grpc = protocolName.lowercased() == "grpc"
            return (
                nil,
                prefix + "\(protocolVariable)=\(protocolName.prefix(40)) is not supported\(grpc ? " (pipe exports over HTTP only)" : ""); "
                    + "set http/protobuf or http/json; no spans are exported"
            )
        }
        var headers: [(name: String, value: String)] = []
        for variable in ["OTEL_EXPORTER_OTLP_HEADERS", "OTEL_EXPORTER_OTLP_TRACES_HEADERS"] {
            guard let text = value(variable) else { continue }
            // The entries' values are never shown: they carry collectors' API keys.
            guard let entries = keyValueList(text), entries.allSatisfy({ isToken($0.key) && !$0.value.contains(where: \.isNewline) }) else {
                return (nil, prefix + "\(variable) is not a list of name=value pairs separated by commas; no spans are exported")
            }
            for entry in entries {
                headers.removeAll { $0.name.lowercased() == entry.key.lowercased() }
                headers.append((entry.key, entry.value))
            }
        }
        var resource: [(key: String, value: OTLPValue)] = []
        if let text = value("OTEL_RESOURCE_ATTRIBUTES") {
            guard let entries = keyValueList(text) else {
                return (nil, prefix + "OTEL_RESOURCE_ATTRIBUTES is not a list of key=value pairs separated by commas; no spans are exported")
            }
            for entry in entries {
                resource.removeAll { $0.key == entry.key }
                resource.append((entry.key, .string(entry.value)))
            }
        }
        if let name = value("OTEL_SERVICE_NAME") {
            resource.removeAll { $0.key == "service.name" }
            resource.insert(("service.name", .string(name)), at: 0)
        } else if !resource.contains(where: { $0.key == "service.name" }) {
            resource.insert(("service.name", .string("pipe")), at: 0)
        }
        resource += [
            ("telemetry.sdk.name", .string("pipe")), ("telemetry.sdk.language", .string("swift")),
            ("telemetry.sdk.version", .string(PipeVersion.current)),
        ]
        var configuration = OTLPConfiguration(url: url, headers: headers, encoding: encoding, resource: OTLPResource(attributes: resource))
        func milliseconds(_ names: [String], into path: WritableKeyPath<OTLPConfiguration, Duration>) {
            if let text = names.lazy.compactMap(value).first, let number = Int(text), number >= 0, number <= 3_600_000 {
                configuration[keyPath: path] = .milliseconds(number)
            }
        }
        func count(_ name: String, into path: WritableKeyPath<OTLPConfiguration, Int>) {
            if let text = value(name), let number = Int(text), number >= 1, number <= 1_000_000 { configuration[keyPath: path] = number }
        }
        milliseconds(["OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "OTEL_EXPORTER_OTLP_TIMEOUT"], into: \.timeout)
        milliseconds(["OTEL_BSP_EXPORT_TIMEOUT"], into: \.flushDeadline)
        milliseconds(["OTEL_BSP_SCHEDULE_DELAY"], into: \.scheduleDelay)
        count("OTEL_BSP_MAX_QUEUE_SIZE", into: \.maxQueueSize)
        count("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", into: \.maxBatchSize)
        configuration.maxBatchSize = min(configuration.maxBatchSize, configuration.maxQueueSize)
        configuration.captureContent = value("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT")?.lowercased() == "true"
        return (configuration, nil)
    }

    /// A header name: letters, digits and `!#$%&'*+-.^_`|~` (RFC 9110 token).
    static func isToken(_ text: String) -> Bool {
        !text.isEmpty && text.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "!#$%&'*+-.^_`|~".unicodeScalars.contains($0)) }
    }

    /// `key1=value1,key2=value2` (W3C Baggage-like, values percent-decoded); nil when malformed
    /// or longer than `maxListEntries`.
    static func keyValueList(_ text: String) -> [(key: String, value: String)]? {
        var entries: [(key: String, value: String)] = []
        for member in text.split(separator: ",") {
            let member = member.trimmingCharacters(in: .whitespaces)
            if member.isEmpty { continue }
            guard let equals = member.firstIndex(of: "=") else { return nil }
            let key = member[..<equals].trimmingCharacters(in: .whitespaces)
            let raw = member[member.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            guard !key.isEmpty, let value = raw.removingPercentEncoding else { return nil }
            entries.append((key, value))
        }
        return entries.count <= maxListEntries ? entries : nil
    }
}
