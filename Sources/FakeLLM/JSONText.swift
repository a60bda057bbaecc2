import Foundation

/// JSON encoding for the reply bodies, and the token estimate they report.
enum JSON {
    /// Compact JSON text with sorted keys. Written by hand: a streamed reply builds one
    /// small object per event, and Foundation's serializer made the fake server slower than
    /// the client it serves.
    static func text(_ value: Any) -> String {
        var out = ""
        write(value, into: &out)
        return out
    }

    private static func write(_ value: Any, into out: inout String) {
        // The types the shapes build, by exact type first: a conditional cast of a Swift
        // dictionary to `String` bridges the whole dictionary to Objective-C on the way, which
        // was most of the benchmark server's CPU (BENCHMARKS.md, `pipe batch`).
        let exact = type(of: value)
        if exact == [String: Any].self { return writeObject(value as! [String: Any], into: &out) }
        if exact == [Any].self { return writeArray(value as! [Any], into: &out) }
        if exact == [[String: Any]].self { return writeArray(value as! [[String: Any]], into: &out) }
        if exact == String.self { return quote(value as! String, into: &out) }
        if exact == Int.self { return out += String(value as! Int) }
        switch value {
        case let string as String:
            quote(string, into: &out)
        case _ where type(of: value) == Bool.self:
            out += (value as! Bool) ? "true" : "false"
        case let int as Int:
            out += String(int)
        case let double as Double:
            out += double == double.rounded() && abs(double) < 1e15 ? String(Int(double)) : String(double)
        case let number as NSNumber:
            if String(cString: number.objCType) == "c" {
                out += number.boolValue ? "true" : "false"
            } else {
                let double = number.doubleValue
                out += double == double.rounded() && abs(double) < 1e15 ? String(number.int64Value) : String(double)
            }
        case let array as [Any]:
            writeArray(array, into: &out)
        case let object as [String: Any]:
            writeObject(object, into: &out)
        default:
            out += "null"
        }
    }

    private static func writeArray<Element>(_ array: [Element], into out: inout String) {
        out += "["
        for (index, item) in array.enumerated() {
            if index > 0 { out += "," }
            write(item, into: &out)
        }
        out += "]"
    }

    private static func writeObject(_ object: [String: Any], into out: inout String) {
        out += "{"
        for (index, (key, value)) in object.sorted(by: { $0.key < $1.key }).enumerated() {
            if index > 0 { out += "," }
            quote(key, into: &out)
            out += ":"
            write(value, into: &out)
        }
        out += "}"
    }

    /// `string` as a JSON string literal.
    static func quoted(_ string: String) -> String {
        var out = ""
        quote(string, into: &out)
        return out
    }

    private static func quote(_ string: String, into out: inout String) {
        out += "\""
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                out += "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count) + String(scalar.value, radix: 16)
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }

    /// `text` parsed as JSON, or `text` itself as a string when it is not JSON.
    static func value(_ text: String) -> Any {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])) ?? text
    }
}

enum Tokens {
    /// About four bytes a token, at least one.
    static func estimate(_ text: String) -> Int {
        max(1, (text.utf8.count + 3) / 4)
    }

    /// `text` in pieces of `size` characters (never splitting a character).
    static func pieces(of text: String, size: Int) -> [String] {
        var pieces: [String] = []
        var current = ""
        for character in text {
            current.append(character)
            if current.count >= size {
                pieces.append(current)
                current = ""
            }
        }
        if !current.isEmpty { pieces.append(current) }
        return pieces
    }
}
