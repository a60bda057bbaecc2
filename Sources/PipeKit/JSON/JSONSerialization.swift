extension JSONValue {
    /// JSON text for this value: compact by default; `pretty` puts each member and element on
    /// its own line with a two-space indent. Object keys keep their stored order; strings
    /// escape `"`, `\` and control characters (C0, DEL, C1), and keep other characters as they are.
    public func serialized(pretty: Bool = false) -> String {
        JSONWriter.text { JSONWriter(pretty: pretty).write(self, into: &$0, indent: 0) }
    }

    /// Pretty JSON text of this value as it stands `depth` levels deep in a document (its
    /// inner lines indented to match), for documents written a piece at a time.
    func serialized(prettyAtDepth depth: Int) -> String {
        JSONWriter.text { JSONWriter(pretty: true).write(self, into: &$0, indent: depth) }
    }
}

extension String {
    /// This string as a JSON string literal, quotes included.
    public var jsonQuoted: String {
        JSONWriter.text(capacity: utf8.count + 2) { JSONWriter.writeString(self, into: &$0) }
    }
}

struct JSONWriter {
    let pretty: Bool

    /// The text that `write` puts into a buffer of UTF-8.
    static func text(capacity: Int = 256, _ write: (inout [UInt8]) -> Void) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(capacity)
        write(&out)
        return String(decoding: out, as: UTF8.self)
    }

    func write(_ value: JSONValue, into out: inout [UInt8], indent: Int) {
        switch value {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .number(let n): out.append(contentsOf: n.description.utf8)
        case .string(let s): Self.writeString(s, into: &out)
        case .array(let array):
            writeContainer(array, open: "[", close: "]", into: &out, indent: indent) { element, out in
                write(element, into: &out, indent: indent + 1)
            }
        case .object(let object):
            writeContainer(object, open: "{", close: "}", into: &out, indent: indent) { member, out in
                Self.writeString(member.key, into: &out)
                out.append(UInt8(ascii: ":"))
                if pretty { out.append(UInt8(ascii: " ")) }
                write(member.value, into: &out, indent: indent + 1)
            }
        }
    }

    /// `open`, the elements (`element` writes one) separated by commas, each on its own line
    /// when pretty, then `close`; `[]` or `{}` when there are none.
    private func writeContainer<Elements: Sequence>(
        _ elements: Elements, open: Unicode.Scalar, close: Unicode.Scalar, into out: inout [UInt8], indent: Int,
        element: (Elements.Element, inout [UInt8]) -> Void
    ) {
        out.append(UInt8(ascii: open))
        var empty = true
        for item in elements {
            if !empty { out.append(UInt8(ascii: ",")) }
            empty = false
            newline(&out, indent + 1)
            element(item, &out)
        }
        if !empty { newline(&out, indent) }
        out.append(UInt8(ascii: close))
    }

    private func newline(_ out: inout [UInt8], _ indent: Int) {
        guard pretty else { return }
        out.append(0x0A)
        out.append(contentsOf: repeatElement(UInt8(ascii: " "), count: indent * 2))
    }

    private static let hex: [UInt8] = Array("0123456789abcdef".utf8)

    static func writeString(_ string: String, into out: inout [UInt8]) {
        var string = string
        // Native strings are contiguous UTF-8: runs of bytes that need no escape are copied
        // whole (a batch writes several JSON documents an item, most of them plain text).
        string.withUTF8 { bytes in writeString(bytes, into: &out) }
    }

    /// Whether a UTF-8 byte is written as it is: not `"`, `\`, a C0 control, DEL, nor the
    /// first byte of a C1 control (0xC2, looked at with the byte after it).
    private static let plain: [Bool] = (0...255).map { byte in
        !(byte < 0x20 || byte == 0x22 || byte == 0x5C || byte == 0x7F || byte == 0xC2)
    }

    private static func writeString(_ bytes: UnsafeBufferPointer<UInt8>, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var start = 0
        var index = 0
        let count = bytes.count
        Self.plain.withUnsafeBufferPointer { plain in
            while index < count {
                let b = bytes[index]
                if plain[Int(b)] {
                    index += 1
                    continue
                }
                if start < index { out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<index])) }
                index += 1
                start = index
                // DEL and the C1 controls (U+0080-U+009F, 0xC2 0x80-0x9F in UTF-8) are escaped
                // too, so that JSON printed on a terminal cannot drive it.
                switch b {
                case 0x22: out.append(0x5C); out.append(0x22)
                case 0x5C: out.append(0x5C); out.append(0x5C)
                case 0x0A: out.append(0x5C); out.append(UInt8(ascii: "n"))
                case 0x0D: out.append(0x5C); out.append(UInt8(ascii: "r"))
                case 0x09: out.append(0x5C); out.append(UInt8(ascii: "t"))
                case 0x08: out.append(0x5C); out.append(UInt8(ascii: "b"))
                case 0x0C: out.append(0x5C); out.append(UInt8(ascii: "f"))
                case 0xC2:
                    if index < count, (0x80...0x9F).contains(bytes[index]) {
                        escape(bytes[index], into: &out)
                        index += 1
                        start = index
                    } else {
                        out.append(0xC2)
                    }
                default: escape(b, into: &out)
                }
            }
        }
        if start < count { out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<count])) }
        out.append(UInt8(ascii: "\""))
    }

    /// `\u00XX` for a control character.
    private static func escape(_ b: UInt8, into out: inout [UInt8]) {
        out.append(contentsOf: [0x5C, UInt8(ascii: "u"), 0x30, 0x30, Self.hex[Int(b >> 4)], Self.hex[Int(b & 0xF)]])
    }
}
