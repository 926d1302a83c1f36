/// Decodes any `Decodable` value straight from a ``JSONValue`` (the counterpart of
/// ``JSONValueEncoder``), so that a stored event body is read back into its typed payload.
///
/// Numbers are strict where it matters: an `Int` field takes a whole number only (`3`, or `3.0`
/// as the canonical form writes whole doubles as integers), a `Double` field any finite number.
/// Unknown object members are ignored, as synthesised `Codable` does (a newer writer may add
/// optional fields). Failures are ``JSONValueDecodingError``s naming the JSON pointer.
public struct JSONValueDecoder: Sendable {
    /// Creates a decoder.
    public init() {}

    /// Decodes a `T` from `value`.
    /// - Throws: ``JSONValueDecodingError`` naming the pointer and what was expected there.
    public func decode<T: Decodable>(_ type: T.Type, from value: JSONValue) throws(JSONValueDecodingError) -> T {
        do {
            return try JSONValueDecoding.decode(type, from: value, path: [])
        } catch let error as JSONValueDecodingError {
            throw error
        } catch let error as DecodingError {
            throw JSONValueDecodingError(error)
        } catch {
            throw JSONValueDecodingError(pointer: "", reason: "\(error)")
        }
    }
}

/// Why a ``JSONValue`` did not decode: the JSON pointer of the offending member and the reason.
public struct JSONValueDecodingError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Where (`/model/sampling/seed`; `""` for the whole value).
    public var pointer: String
    /// What was wrong (`expected an integer, found a string`).
    public var reason: String

    /// Creates an error.
    public init(pointer: String, reason: String) {
        self.pointer = pointer
        self.reason = reason
    }

    init(_ error: DecodingError) {
        switch error {
        case .typeMismatch(_, let context), .dataCorrupted(let context):
            self.init(pointer: JSONValueDecoding.pointer(context.codingPath), reason: context.debugDescription)
        case .keyNotFound(let key, let context):
            self.init(
                pointer: JSONValueDecoding.pointer(context.codingPath + [key]), reason: "is required and missing")
        case .valueNotFound(_, let context):
            self.init(pointer: JSONValueDecoding.pointer(context.codingPath), reason: "is required and null")
        @unknown default:
            self.init(pointer: "", reason: "\(error)")
        }
    }

    /// `/pointer: reason` (`(root): reason` for the whole value).
    public var description: String { "\(pointer.isEmpty ? "(root)" : pointer): \(reason)" }
}

enum JSONValueDecoding {
    /// The RFC 6901 pointer of a coding path.
    static func pointer(_ path: [any CodingKey]) -> String {
        path.map { "/" + JSONPointer.escape($0.intValue.map(String.init) ?? $0.stringValue) }.joined()
    }

    static func mismatch(_ expected: String, _ value: JSONValue, _ path: [any CodingKey]) -> DecodingError {
        DecodingError.typeMismatch(
            Any.self,
            DecodingError.Context(
                codingPath: path, debugDescription: "expected \(expected), found \(article(value.typeName))"))
    }

    static func article(_ name: String) -> String {
        name == "null"
            ? "null" : (["a", "e", "i", "o", "u"].contains(name.first.map(String.init)) ? "an " : "a ") + name
    }

    static func decode<T: Decodable>(_ type: T.Type, from value: JSONValue, path: [any CodingKey]) throws -> T {
        if let direct = try primitive(type, from: value, path: path) { return direct }
        return try T(from: Decoder(value: value, codingPath: path))
    }

    /// The primitive (or ``JSONValue``) `T` read from `value` without a container, or `nil` when
    /// `T` is not one.
    static func primitive<T>(_ type: T.Type, from value: JSONValue, path: [any CodingKey]) throws -> T? {
        func integer() throws -> Int64 {
            guard let int = value.integerValue, value.doubleValue != nil else {
                throw mismatch("an integer", value, path)
            }
            return int
        }
        func narrowed<I: FixedWidthInteger>(_: I.Type) throws -> I {
            guard let exact = I(exactly: try integer()) else {
                throw DecodingError.dataCorrupted(
                    DecodingError.Context(
                        codingPath: path, debugDescription: "\(value.canonicalString) is out of range"))
            }
            return exact
        }
        switch type {
        case is JSONValue.Type: return value as? T
        case is String.Type:
            guard let string = value.stringValue else { throw mismatch("a string", value, path) }
            return string as? T
        case is Bool.Type:
            guard let bool = value.boolValue else { throw mismatch("a boolean", value, path) }
            return bool as? T
        case is Double.Type:
            guard let double = value.doubleValue else { throw mismatch("a number", value, path) }
            return double as? T
        case is Float.Type:
            guard let double = value.doubleValue else { throw mismatch("a number", value, path) }
            return Float(double) as? T
        case is Int.Type: return try narrowed(Int.self) as? T
        case is Int64.Type: return try integer() as? T
        case is Int32.Type: return try narrowed(Int32.self) as? T
        case is Int16.Type: return try narrowed(Int16.self) as? T
        case is Int8.Type: return try narrowed(Int8.self) as? T
        case is UInt.Type: return try narrowed(UInt.self) as? T
        case is UInt64.Type: return try narrowed(UInt64.self) as? T
        case is UInt32.Type: return try narrowed(UInt32.self) as? T
        case is UInt16.Type: return try narrowed(UInt16.self) as? T
        case is UInt8.Type: return try narrowed(UInt8.self) as? T
        default: return nil
        }
    }

    struct Decoder: Swift.Decoder {
        let value: JSONValue
        let codingPath: [any CodingKey]
        var userInfo: [CodingUserInfoKey: Any] { [:] }

        func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
            guard let members = value.objectValue else { throw mismatch("an object", value, codingPath) }
            return KeyedDecodingContainer(Keyed<Key>(members: members, codingPath: codingPath))
        }

        func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
            guard let items = value.arrayValue else { throw mismatch("an array", value, codingPath) }
            return Unkeyed(items: items, codingPath: codingPath)
        }

        func singleValueContainer() throws -> any SingleValueDecodingContainer {
            Single(value: value, codingPath: codingPath)
        }
    }

    struct Keyed<Key: CodingKey>: KeyedDecodingContainerProtocol {
        let members: [String: JSONValue]
        let codingPath: [any CodingKey]

        var allKeys: [Key] { members.keys.compactMap { Key(stringValue: $0) } }

        func contains(_ key: Key) -> Bool { members[key.stringValue] != nil }

        private func member(_ key: Key) throws -> JSONValue {
            guard let value = members[key.stringValue] else {
                throw DecodingError.keyNotFound(
                    key, DecodingError.Context(codingPath: codingPath, debugDescription: "is required and missing"))
            }
            return value
        }

        func decodeNil(forKey key: Key) throws -> Bool { try member(key) == .null }

        func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
            try JSONValueDecoding.decode(type, from: try member(key), path: codingPath + [key])
        }

        func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws
            -> KeyedDecodingContainer<NestedKey>
        {
            try Decoder(value: try member(key), codingPath: codingPath + [key]).container(keyedBy: type)
        }

        func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
            try Decoder(value: try member(key), codingPath: codingPath + [key]).unkeyedContainer()
        }

        func superDecoder() throws -> any Swift.Decoder {
            Decoder(value: members["super"] ?? .null, codingPath: codingPath)
        }

        func superDecoder(forKey key: Key) throws -> any Swift.Decoder {
            Decoder(value: members[key.stringValue] ?? .null, codingPath: codingPath + [key])
        }
    }

    struct Unkeyed: UnkeyedDecodingContainer {
        let items: [JSONValue]
        let codingPath: [any CodingKey]
        var currentIndex = 0
        var count: Int? { items.count }
        var isAtEnd: Bool { currentIndex >= items.count }

        init(items: [JSONValue], codingPath: [any CodingKey]) {
            self.items = items
            self.codingPath = codingPath
        }

        private mutating func next() throws -> (JSONValue, [any CodingKey]) {
            guard !isAtEnd else {
                throw DecodingError.valueNotFound(
                    Any.self,
                    DecodingError.Context(
                        codingPath: codingPath + [IndexKey(currentIndex)], debugDescription: "the array ends here"))
            }
            defer { currentIndex += 1 }
            return (items[currentIndex], codingPath + [IndexKey(currentIndex)])
        }

        mutating func decodeNil() throws -> Bool {
            guard !isAtEnd, items[currentIndex] == .null else { return false }
            currentIndex += 1
            return true
        }

        mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
            let (value, path) = try next()
            return try JSONValueDecoding.decode(type, from: value, path: path)
        }

        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws
            -> KeyedDecodingContainer<NestedKey>
        {
            let (value, path) = try next()
            return try Decoder(value: value, codingPath: path).container(keyedBy: type)
        }

        mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
            let (value, path) = try next()
            return try Decoder(value: value, codingPath: path).unkeyedContainer()
        }

        mutating func superDecoder() throws -> any Swift.Decoder {
            let (value, path) = try next()
            return Decoder(value: value, codingPath: path)
        }
    }

    struct Single: SingleValueDecodingContainer {
        let value: JSONValue
        let codingPath: [any CodingKey]

        func decodeNil() -> Bool { value == .null }

        func decode<T: Decodable>(_ type: T.Type) throws -> T {
            try JSONValueDecoding.decode(type, from: value, path: codingPath)
        }
    }
}

extension JSONValue: Codable {
    /// Reads any JSON value (through ``JSONValueDecoder`` it is taken as it is; through another
    /// decoder, kind by kind).
    public init(from decoder: any Swift.Decoder) throws {
        if let direct = decoder as? JSONValueDecoding.Decoder {
            self = direct.value
            return
        }
        if let keyed = try? decoder.container(keyedBy: AnyKey.self) {
            var members: [String: JSONValue] = [:]
            for key in keyed.allKeys { members[key.stringValue] = try keyed.decode(JSONValue.self, forKey: key) }
            self = .object(members)
            return
        }
        if var unkeyed = try? decoder.unkeyedContainer() {
            var items: [JSONValue] = []
            while !unkeyed.isAtEnd { items.append(try unkeyed.decode(JSONValue.self)) }
            self = .array(items)
            return
        }
        let single = try decoder.singleValueContainer()
        if single.decodeNil() {
            self = .null
        } else if let bool = try? single.decode(Bool.self) {
            self = .bool(bool)
        } else if let int = try? single.decode(Int64.self) {
            self = .integer(int)
        } else if let double = try? single.decode(Double.self) {
            self = .number(double)
        } else {
            self = .string(try single.decode(String.self))
        }
    }

    /// Writes the value (through ``JSONValueEncoder`` it is taken as it is).
    public func encode(to encoder: any Swift.Encoder) throws {
        switch self {
        case .null:
            var single = encoder.singleValueContainer()
            try single.encodeNil()
        case .bool(let bool):
            var single = encoder.singleValueContainer()
            try single.encode(bool)
        case .integer(let int):
            var single = encoder.singleValueContainer()
            try single.encode(int)
        case .number(let double):
            var single = encoder.singleValueContainer()
            try single.encode(double)
        case .string(let string):
            var single = encoder.singleValueContainer()
            try single.encode(string)
        case .array(let items):
            var unkeyed = encoder.unkeyedContainer()
            for item in items { try unkeyed.encode(item) }
        case .object(let members):
            var keyed = encoder.container(keyedBy: AnyKey.self)
            for (key, value) in members { try keyed.encode(value, forKey: AnyKey(key)) }
        }
    }
}

/// Any string as a coding key (JSON object members of a ``JSONValue``).
struct AnyKey: CodingKey {
    let stringValue: String
    var intValue: Int? { nil }

    init(_ string: String) { stringValue = string }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}
