import Foundation

/// The one way text reaches `pipe report`'s HTML and SVG: every name, model, prompt, reply,
/// error and id goes through `escape`, so a reply holding `<script>`, `</details>`, quotes or
/// `]]>` shows as text and never becomes markup.
public enum HTML {
    /// `text` as HTML text or as an attribute value (in double or single quotes): `&`, `<`,
    /// `>`, `"` and `'` become character references, and control characters other than tab,
    /// newline and carriage return (which HTML does not allow) become U+FFFD.
    public static func escape(_ text: String) -> String {
        var escaped = ""
        escaped.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&#39;"
            case "\t", "\n", "\r": escaped.unicodeScalars.append(scalar)
            default:
                if scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) {
                    escaped += "\u{FFFD}"
                } else {
                    escaped.unicodeScalars.append(scalar)
                }
            }
        }
        return escaped
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
