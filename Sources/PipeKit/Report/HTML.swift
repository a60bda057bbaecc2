import Foundation

/// The one way text reaches `pipe report`'s HTML and SVG: every name, model, prompt, reply,
/// error and id goes through `escape`, so a reply holding `<script>`, `</details>`, quotes or
/// `]]>` shows as text and never becomes markup.
public enum HTML {
    /// `text` as HTML text or as an attribute value (in double or single quotes): `&`, `<`,
    /// `>`, `"` and `'` become character references, and control characters other than tab,
    /// newline and carriage return (which HTML does not allow) become U+FFFD.
    public static func escape(_ text: String) -> String {
        var text = text
        return text.withUTF8 { bytes in
            // Most text needs nothing: return it as it is.
            guard bytes.contains(where: { needsWork($0) }) else { return String(decoding: bytes, as: UTF8.self) }
            var escaped: [UInt8] = []
            escaped.reserveCapacity(bytes.count + bytes.count / 8)
            var index = 0
            while index < bytes.count {
                let byte = bytes[index]
                index += 1
                switch byte {
                case UInt8(ascii: "&"): escaped += Array("&amp;".utf8)
                case UInt8(ascii: "<"): escaped += Array("&lt;".utf8)
                case UInt8(ascii: ">"): escaped += Array("&gt;".utf8)
                case UInt8(ascii: "\""): escaped += Array("&quot;".utf8)
                case UInt8(ascii: "'"): escaped += Array("&#39;".utf8)
                case 0x09, 0x0A, 0x0D: escaped.append(byte)
                case 0x00..<0x20, 0x7F: escaped += replacement
                case 0xC2 where index < bytes.count && (0x80...0x9F).contains(bytes[index]):
                    // U+0080 to U+009F, the C1 controls.
                    escaped += replacement
                    index += 1
                default: escaped.append(byte)
                }
            }
            return String(decoding: escaped, as: UTF8.self)
        }
    }

    /// U+FFFD in UTF-8.
    private static let replacement: [UInt8] = [0xEF, 0xBF, 0xBD]

    private static func needsWork(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "&"), UInt8(ascii: "<"), UInt8(ascii: ">"), UInt8(ascii: "\""), UInt8(ascii: "'"), 0xC2, 0x7F: true
        case 0x09, 0x0A, 0x0D: false
        default: byte < 0x20
        }
    }

    /// `text` cut to `limit` characters, with a note saying how much was left out: a report's
    /// size stays bounded whatever a prompt or a reply holds.
    static func capped(_ text: String, _ limit: Int) -> String {
        guard text.count > limit else { return text }
        return String(text.prefix(limit)) + "\n… (\(text.count - limit) more characters: `pipe logs` shows them all)"
    }

    /// A number for SVG coordinates: one decimal, no exponent.
    static func number(_ value: Double) -> String {
        guard value.isFinite else { return "0" }
        return String(format: "%.1f", value)
    }

    /// An id fit for an `id` attribute and a `#` link, made from any text: letters, digits,
    /// `-` and `_` kept, everything else as `.` and its code point.
    static func anchor(_ prefix: String, _ text: String) -> String {
        var id = prefix + "-"
        for scalar in text.unicodeScalars {
            if scalar.isASCII, CharacterSet.alphanumerics.contains(scalar) || scalar == "-" || scalar == "_" {
                id.unicodeScalars.append(scalar)
            } else {
                id += ".\(String(scalar.value, radix: 16))"
            }
        }
        return id
    }
}
