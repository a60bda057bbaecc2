import Testing
@testable import PipeKit

@Suite struct JSONNumberTests {
    @Test func decimalEquality() {
        #expect(JSONNumber("1.0")! == JSONNumber(1))
        #expect(JSONNumber("1e2")! == JSONNumber(100))
        #expect(JSONNumber("-0")! == JSONNumber(0))
        #expect(JSONNumber("0.10")! == JSONNumber("1e-1")!)
        #expect(JSONNumber(0.1) == JSONNumber("0.1")!)
        #expect(JSONNumber("1.5")!.hashValue == JSONNumber("15e-1")!.hashValue)
    }

    @Test func bignums() {
        let a = JSONNumber("12345678901234567890123456789")!
        let b = JSONNumber("12345678901234567890123456789.0")!
        let c = JSONNumber("12345678901234567890123456788")!
        #expect(a == b)
        #expect(c < a)
        #expect(a.isInteger)
        #expect(a.intValue == nil)
        #expect(JSONNumber("-98249283749234923498293171823948729348710298301928331")! < JSONNumber(-1))
        #expect(a.description == "12345678901234567890123456789")
    }

    @Test func grammar() {
        for bad in ["", "-", "01", "1.", ".5", "1e", "+1", "1e+", "0x10", " 1"] {
            #expect(JSONNumber(bad) == nil, "\(bad)")
        }
        #expect(JSONNumber("-1.5E+3")! == JSONNumber(-1500))
    }

    @Test func integersAndDoubles() {
        #expect(JSONNumber("1.0")!.isInteger)
        #expect(!JSONNumber("1.5")!.isInteger)
        #expect(JSONNumber("1e3")!.intValue == 1000)
        #expect(JSONNumber("2.5")!.doubleValue == 2.5)
        #expect(JSONNumber("1e308")!.doubleValue == 1e308)
        #expect(JSONNumber(Int.min).intValue == Int.min)
    }

    @Test func exactMultipleOf() {
        #expect(JSONNumber("0.0075")!.isMultiple(of: JSONNumber("0.0001")!))
        #expect(!JSONNumber("0.00751")!.isMultiple(of: JSONNumber("0.0001")!))
        #expect(JSONNumber("4.5")!.isMultiple(of: JSONNumber("1.5")!))
        #expect(!JSONNumber("35")!.isMultiple(of: JSONNumber("1.5")!))
        #expect(JSONNumber("1e308")!.isMultiple(of: JSONNumber("0.5")!))
        #expect(!JSONNumber("1e308")!.isMultiple(of: JSONNumber("0.123456789")!))
        #expect(JSONNumber("123456789012345678901234567890")!.isMultiple(of: JSONNumber("10")!))
        #expect(JSONNumber("246913578024691357802469135780")!.isMultiple(of: JSONNumber("123456789012345678901234567890")!))
    }

    @Test func canonicalText() {
        #expect(JSONNumber("100.0")!.description == "100")
        #expect(JSONNumber("0.0075")!.description == "0.0075")
        #expect(JSONNumber("-12.50")!.description == "-12.5")
        #expect(JSONNumber("1e300")!.description == "1e+300")
        #expect(JSONNumber("1.5e-12")!.description == "1.5e-12")
    }

    /// Integers are written as their digits, whether or not they fit a UInt64 once scaled.
    @Test func integerText() {
        #expect(JSONNumber(7).description == "7")
        #expect(JSONNumber(-250).description == "-250")
        #expect(JSONNumber(100).description == "100")
        #expect(JSONNumber("1e19")!.description == "10000000000000000000")
        #expect(JSONNumber("18446744073709551615")!.description == "18446744073709551615")
        #expect(JSONNumber("-18446744073709551616")!.description == "-18446744073709551616")
        #expect(JSONNumber("1e20")!.description == "100000000000000000000")
        #expect(JSONNumber("1e21")!.description == "1e+21")
        #expect(JSONNumber("9999999999999999999e2")!.description == "999999999999999999900")
    }
}

@Suite struct JSONParserTests {
    @Test func parsesDocuments() throws {
        let value = try JSONParser.parse(#"{"a": [1, 2.5, true, null, "x\u00e9\ud83d\ude00"], "b": {}}"#)
        #expect(value["a"]?[0] == 1)
        #expect(value["a"]?[4]?.stringValue == "xé😀")
        #expect(value["b"] == .object([:]))
    }

    @Test func duplicateKeysLastWins() throws {
        let value = try JSONParser.parse(#"{"a": 1, "b": 2, "a": 3}"#)
        #expect(value["a"] == 3)
        #expect(value.objectValue?.keys == ["a", "b"])
    }

    @Test func repeatedKeysInALargeObjectKeepTheirPlaceAndTakeTheLastValue() throws {
        // Past 16 members the parser finds repeats by hash; keys equal only canonically stay apart.
        let members = (0..<40).map { #""k\#($0)": \#($0)"# } + [#""k3": "again""#, #""caf\u00e9": 1"#, #""cafe\u0301": 2"#, #""k39": null"#]
        let value = try JSONParser.parse("{" + members.joined(separator: ", ") + "}")
        let object = try #require(value.objectValue)
        #expect(object.count == 42)
        #expect(object.keys[3] == "k3" && object["k3"] == "again")
        #expect(object["k39"] == .null && object.keys[39] == "k39")
        #expect(object["caf\u{E9}"] == 1 && object["cafe\u{301}"] == 2)
    }

    @Test func errorsHaveLineAndColumn() {
        func failure(_ text: String) -> JSONParseError? {
            do { _ = try JSONParser.parse(text); return nil } catch { return error }
        }
        let e1 = failure("{\n  \"a\": 1\n  \"b\": 2\n}")
        #expect(e1 == JSONParseError(line: 3, column: 3, message: "expected ',' or '}' after object member, found '\"'"))
        let e2 = failure("[1, 2,]")
        #expect(e2?.line == 1 && e2?.column == 7)
        #expect(e2?.message == "expected a JSON value, found ']'")
        #expect(failure("[01]")?.message == "invalid number: leading zeros are not allowed")
        #expect(failure("\"abc")?.message == "unterminated string")
        #expect(failure("tru")?.message == "invalid literal, expected 'true'")
        #expect(failure("1 2")?.message == "unexpected '2' after the JSON value")
        #expect(failure("\"\\ud800\"")?.message == "unpaired surrogate in \\u escape")
        #expect(failure("\"a\tb\"")?.message == "control character in string must be escaped")
        #expect(failure("")?.message == "expected a JSON value, found end of input")
        #expect(failure("{\"é\": x}")?.column == 7)
    }

    @Test func depthLimit() {
        let deep = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        #expect(throws: JSONParseError.self) { try JSONParser.parse(deep) }
        let ok = String(repeating: "[", count: 500) + String(repeating: "]", count: 500)
        #expect((try? JSONParser.parse(ok)) != nil)
    }

    @Test func invalidUTF8IsRejected() {
        #expect(throws: JSONParseError.self) { try JSONParser.parse([0x22, 0xC3, 0x28, 0x22]) }
        #expect((try? JSONParser.parse([0x22, 0xC3, 0xA9, 0x22])) == .string("é"))
    }
}

@Suite struct JSONValueTests {
    @Test func stringsAreWrittenWithOnlyQuotesBackslashesAndControlsEscaped() throws {
        // Plain runs around every kind of escape, at the start, in the middle and at the end;
        // an é (0xC3 0xA9) and a U+00A0 (0xC2 0xA0) kept as they are, a C1 control (0xC2 0x85) escaped.
        let text = "\"a\\b\nc\r\td\u{8}\u{C}\u{1}é\u{7F}x\u{85}\u{A0}y\u{85}"
        #expect(JSONValue.string(text).serialized() == #""\"a\\b\nc\r\td\b\f\u0001é\u007fx\u0085\#u{A0}y\u0085""#)
        #expect(JSONValue.string("plain").serialized() == #""plain""#)
        #expect(JSONValue.string("").serialized() == #""""#)
        #expect(try JSONParser.parse(JSONValue.string(text).serialized()) == .string(text))
    }

    @Test func keyOrderPreservedInSerialization() throws {
        let text = #"{"zeta":1,"alpha":[true,null],"mid":{"y":"\"q\"\n","x":-0.5}}"#
        let value = try JSONParser.parse(text)
        #expect(value.serialized() == text)
        #expect(value.serialized(pretty: true) == """
        {
          "zeta": 1,
          "alpha": [
            true,
            null
          ],
          "mid": {
            "y": "\\"q\\"\\n",
            "x": -0.5
          }
        }
        """)
    }

    @Test func objectEqualityIgnoresOrder() {
        let a: JSONValue = ["a": 1, "b": [1, 2]]
        let b: JSONValue = ["b": [1, 2], "a": 1.0]
        #expect(a == b)
        #expect(a.hashValue == b.hashValue)
        #expect(JSONValue.bool(false) != JSONValue.number(JSONNumber(0)))
    }

    @Test func objectMutation() {
        var o = JSONObject()
        for i in 0..<30 { o["k\(i)"] = .number(JSONNumber(i)) }
        o["k3"] = "x"
        o["k5"] = nil
        #expect(o.count == 29)
        #expect(o["k3"] == "x")
        #expect(o["k29"] == 29)
        #expect(o.keys[3] == "k3" && o.keys[5] == "k6")
    }

    @Test func keysAndStringsCompareByCodePoints() {
        let composed = "caf\u{E9}", decomposed = "cafe\u{301}"
        #expect(JSONValue.string(composed) != JSONValue.string(decomposed))
        var o = JSONObject()
        o[composed] = 1
        o[decomposed] = 2
        #expect(o.count == 2)
        #expect(o[composed] == 1 && o[decomposed] == 2)
    }

    @Test func conveniences() {
        let v: JSONValue = ["n": 1.5, "i": 2, "s": "x", "a": [nil], "o": [:], "b": true]
        #expect(v["n"]?.typeName == "number")
        #expect(v["i"]?.typeName == "integer")
        #expect(v["s"]?.stringValue == "x")
        #expect(v["a"]?.arrayValue == [.null])
        #expect(v["b"]?.boolValue == true)
        #expect(v["o"]?.objectValue?.isEmpty == true)
        #expect(v["missing"] == nil)
    }

    @Test func pointers() {
        #expect(JSONPointer.escape("a/b~c") == "a~1b~0c")
        let doc: JSONValue = ["a/b": ["x": [10, 20]]]
        #expect(JSONPointer("/a~1b/x/1")?.resolve(in: doc) == 20)
        #expect(JSONPointer("/a~1b/x/01")?.resolve(in: doc) == nil)
        #expect(JSONPointer("")?.resolve(in: doc) == doc)
        #expect(JSONPointer("a") == nil)
        #expect(JSONPointer(tokens: ["a/b", "x"]).description == "/a~1b/x")
    }
}
