/// `ExportTraceServiceRequest` in the protobuf wire format (`http/protobuf`), written by hand for
/// the fields `pipe` sends (opentelemetry-proto `collector/trace/v1`, `trace/v1`, `common/v1`,
/// `resource/v1`): one `ResourceSpans` with one `ScopeSpans`.
enum OTLPProtobuf {
    static func request(_ spans: [OTLPSpan], resource: OTLPResource) -> [UInt8] {
        var scope = Writer()
        scope.message(1) { scope in  // InstrumentationScope
            scope.string(1, OTLPResource.scopeName)
            scope.string(2, PipeVersion.current)
        }
        for span in spans { scope.message(2) { write(span, into: &$0) } }
        var resourceSpans = Writer()
        resourceSpans.message(1) { resourceMessage in  // Resource
            for attribute in resource.attributes { resourceMessage.message(1) { keyValue(attribute, into: &$0) } }
        }
        resourceSpans.bytes(2, scope.bytes)
        var request = Writer()
        request.bytes(1, resourceSpans.bytes)
        return request.bytes
    }

    private static func write(_ span: OTLPSpan, into writer: inout Writer) {
        writer.bytes(1, Hex.bytes(span.traceID))
        writer.bytes(2, Hex.bytes(span.spanID))
        if let state = span.traceState, !state.isEmpty { writer.string(3, state) }
        if let parent = span.parentSpanID { writer.bytes(4, Hex.bytes(parent)) }
        writer.string(5, span.name)
        writer.varint(6, UInt64(span.kind.rawValue))
        writer.fixed64(7, span.start)
        writer.fixed64(8, span.end)
        for attribute in span.attributes { writer.message(9) { keyValue(attribute, into: &$0) } }
        if case .error(let message) = span.status {
            writer.message(15) { status in  // Status: message = 2, code = 3 (ERROR = 2)
                status.string(2, message)
                status.varint(3, 2)
            }
        }
    }

    private static func keyValue(_ attribute: (key: String, value: OTLPValue), into writer: inout Writer) {
        writer.string(1, attribute.key)
        writer.message(2) { anyValue(attribute.value, into: &$0) }
    }

    private static func anyValue(_ value: OTLPValue, into writer: inout Writer) {
        switch value {
        case .string(let text): writer.string(1, text)
        case .bool(let flag): writer.varint(2, flag ? 1 : 0)
        case .int(let number): writer.varint(3, UInt64(bitPattern: number))
        case .double(let number):
            writer.tag(4, wireType: 1)
            writer.littleEndian(number.bitPattern)
        case .strings(let texts):
            writer.message(5) { array in  // ArrayValue: repeated AnyValue values = 1
                for text in texts { array.message(1) { $0.string(1, text) } }
            }
        }
    }

    /// Appends fields: varints, fixed64s and length-delimited bytes.
    struct Writer {
        var bytes: [UInt8] = []

        mutating func tag(_ field: Int, wireType: UInt64) { raw(UInt64(field) << 3 | wireType) }

        mutating func raw(_ value: UInt64) {
            var value = value
            while value >= 0x80 {
                bytes.append(UInt8(value & 0x7F) | 0x80)
                value >>= 7
            }
            bytes.append(UInt8(value))
        }

        mutating func varint(_ field: Int, _ value: UInt64) {
            tag(field, wireType: 0)
            raw(value)
        }

        mutating func fixed64(_ field: Int, _ value: UInt64) {
            tag(field, wireType: 1)
            littleEndian(value)
        }

        mutating func littleEndian(_ value: UInt64) {
            for shift in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
        }

        mutating func bytes(_ field: Int, _ value: [UInt8]) {
            tag(field, wireType: 2)
            raw(UInt64(value.count))
            bytes += value
        }

        mutating func string(_ field: Int, _ value: String) { bytes(field, Array(value.utf8)) }

        mutating func message(_ field: Int, _ body: (inout Writer) -> Void) {
            var inner = Writer()
            body(&inner)
            bytes(field, inner.bytes)
        }
    }
}
