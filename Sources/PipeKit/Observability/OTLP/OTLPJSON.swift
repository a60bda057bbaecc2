/// `ExportTraceServiceRequest` in OTLP/JSON (`http/json`): the protobuf JSON mapping with the
/// OTLP rules — ids as hex text, enums as numbers, 64-bit integers as decimal strings.
enum OTLPJSON {
    static func request(_ spans: [OTLPSpan], resource: OTLPResource) -> [UInt8] {
        let scope: JSONValue = ["name": .string(OTLPResource.scopeName), "version": .string(PipeVersion.current)]
        let body: JSONValue = [
            "resourceSpans": [
                [
                    "resource": ["attributes": .array(resource.attributes.map(keyValue))],
                    "scopeSpans": [["scope": scope, "spans": .array(spans.map(span))]],
                ]
            ]
        ]
        return Array(body.serialized().utf8)
    }

    private static func span(_ span: OTLPSpan) -> JSONValue {
        var object: JSONObject = [
            "traceId": .string(span.traceID), "spanId": .string(span.spanID), "name": .string(span.name),
            "kind": .number(JSONNumber(span.kind.rawValue)),
            "startTimeUnixNano": .string(String(span.start)), "endTimeUnixNano": .string(String(span.end)),
            "attributes": .array(span.attributes.map(keyValue)),
        ]
        if let parent = span.parentSpanID { object["parentSpanId"] = .string(parent) }
        if let state = span.traceState, !state.isEmpty { object["traceState"] = .string(state) }
        if case .error(let message) = span.status { object["status"] = ["code": 2, "message": .string(message)] }
        return .object(object)
    }

    private static func keyValue(_ attribute: (key: String, value: OTLPValue)) -> JSONValue {
        ["key": .string(attribute.key), "value": anyValue(attribute.value)]
    }

    private static func anyValue(_ value: OTLPValue) -> JSONValue {
        switch value {
        case .string(let text): ["stringValue": .string(text)]
        case .bool(let flag): ["boolValue": .bool(flag)]
        case .int(let number): ["intValue": .string(String(number))]
        case .double(let number): ["doubleValue": number.isFinite ? .number(JSONNumber(number)) : .string(number.isNaN ? "NaN" : number > 0 ? "Infinity" : "-Infinity")]
        case .strings(let texts): ["arrayValue": ["values": .array(texts.map { ["stringValue": .string($0)] })]]
        }
    }
}
