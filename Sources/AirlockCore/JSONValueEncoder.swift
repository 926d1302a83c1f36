/// Encodes any `Encodable` value straight into a ``JSONValue``: no bytes, no `JSONEncoder`, no
/// re-parse. What the trace records and hashes is typed on the way in and canonical on the way out.
///
/// Integers become ``JSONValue/integer(_:)``, floating-point values ``JSONValue/number(_:)``
/// (non-finite ones are refused; whole ones within ±2^53 become integers, as the canonical form
/// writes them, so that encoding, writing and parsing again gives back an equal value), optionals that are `nil` are left out (synthesised `Codable`
/// uses `encodeIfPresent`), and a ``JSONValue`` inside the value is taken as it is.
public struct JSONValueEncoder: Sendable {
    /// Creates an encoder.
    public init() {}

    /// Encodes `value`.
    /// - Throws: `EncodingError.invalidValue` for a non-finite number or an integer outside `Int64`.
    public func encode<T: Encodable>(_ value: T) throws -> JSONValue {
        if let direct = try JSONValueEncoding.primitive(value, path: []) { return direct }
        let slot = JSONValueEncoding.Slot()
        try value.encode(to: JSONValueEncoding.Encoder(slot: slot, codingPath: []))
        return slot.resolved
    }
}

/// The machinery behind ``JSONValueEncoder``: a tree of reference slots that containers write
/// into, resolved into a value once encoding ends.
enum JSONValueEncoding {
    final class Slot {
        enum Content {
            case empty
            case value(JSONValue)
            case object(ObjectBox)
            case array(ArrayBox)
        }
        var content: Content = .empty

        var resolved: JSONValue {
            switch content {
            case .empty: .object([:])
            case .value(let value): value
            case .object(let box): .object(box.members.mapValues(\.resolved))
            case .array(let box): .array(box.items.map(\.resolved))
            }
        }

        func object() -> ObjectBox {
            if case .object(let box) = content { return box }
            let box = ObjectBox()
            content = .object(box)
            return box
        }

        func array() -> ArrayBox {
            if case .array(let box) = content { return box }
            let box = ArrayBox()
            content = .array(box)
            return box
        }
    }

    final class ObjectBox {
        var members: [String: Slot] = [:]
    }

    final class ArrayBox {
        var items: [Slot] = []
    }

    /// The value of a primitive (or of a ``JSONValue``) without going through a container, or
    /// `nil` when `value` is not one.
    static func primitive<T: Encodable>(_ value: T, path: [any CodingKey]) throws -> JSONValue? {
        switch value {
        case let json as JSONValue: return json
        case let string as String: return .string(string)
        case let bool as Bool: return .bool(bool)
        case let int as Int: return .integer(Int64(int))
        case let int as Int64: return .integer(int)
        case let int as Int32: return .integer(Int64(int))
        case let int as Int16: return .integer(Int64(int))
        case let int as Int8: return .integer(Int64(int))
        case let int as UInt8: return .integer(Int64(int))
        case let int as UInt16: return .integer(Int64(int))
        case let int as UInt32: return .integer(Int64(int))
        case let int as UInt64:
            guard let exact = Int64(exactly: int) else { throw invalid(value, path, "is above Int64.max") }
            return .integer(exact)
        case let int as UInt:
            guard let exact = Int64(exactly: int) else { throw invalid(value, path, "is above Int64.max") }
            return .integer(exact)
        case let double as Double:
            return try number(double, value, path)
        case let float as Float:
            return try number(Double(float), value, path)
        default:
            return nil
        }
    }

    /// The largest magnitude below which a whole double is written as an integer (2^53).
    static let exactIntegerBound = 9.007_199_254_740_992e15

    static func number(_ double: Double, _ value: Any, _ path: [any CodingKey]) throws -> JSONValue {
        guard double.isFinite else { throw invalid(value, path, "is not a finite number") }
        if double.rounded() == double, abs(double) < exactIntegerBound, let int = Int64(exactly: double) {
            return .integer(int)
        }
        return .number(double)
    }

    static func invalid(_ value: Any, _ path: [any CodingKey], _ why: String) -> EncodingError {
        EncodingError.invalidValue(
            value,
            EncodingError.Context(codingPath: path, debugDescription: "\(JSONValueDecoding.pointer(path)) \(why)"))
    }

    /// Encodes `value` into `slot`.
    static func encode<T: Encodable>(_ value: T, into slot: Slot, path: [any CodingKey]) throws {
        if let direct = try primitive(value, path: path) {
            slot.content = .value(direct)
        } else {
            try value.encode(to: Encoder(slot: slot, codingPath: path))
        }
    }

    struct Encoder: Swift.Encoder {
        let slot: Slot
        let codingPath: [any CodingKey]
        var userInfo: [CodingUserInfoKey: Any] { [:] }

        func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
            KeyedEncodingContainer(Keyed<Key>(box: slot.object(), codingPath: codingPath))
        }

        func unkeyedContainer() -> any UnkeyedEncodingContainer {
            Unkeyed(box: slot.array(), codingPath: codingPath)
        }

        func singleValueContainer() -> any SingleValueEncodingContainer {
            Single(slot: slot, codingPath: codingPath)
        }
    }

    struct Keyed<Key: CodingKey>: KeyedEncodingContainerProtocol {
        let box: ObjectBox
        let codingPath: [any CodingKey]

        private func child(_ key: Key) -> Slot {
            let slot = Slot()
            box.members[key.stringValue] = slot
            return slot
        }

        mutating func encodeNil(forKey key: Key) throws { child(key).content = .value(.null) }

        mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
            try JSONValueEncoding.encode(value, into: child(key), path: codingPath + [key])
        }

        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key)
            -> KeyedEncodingContainer<NestedKey>
        {
            KeyedEncodingContainer(Keyed<NestedKey>(box: child(key).object(), codingPath: codingPath + [key]))
        }

        mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
            Unkeyed(box: child(key).array(), codingPath: codingPath + [key])
        }

        mutating func superEncoder() -> any Swift.Encoder {
            let slot = Slot()
            box.members["super"] = slot
            return Encoder(slot: slot, codingPath: codingPath)
        }

        mutating func superEncoder(forKey key: Key) -> any Swift.Encoder {
            Encoder(slot: child(key), codingPath: codingPath + [key])
        }
    }

    struct Unkeyed: UnkeyedEncodingContainer {
        let box: ArrayBox
        let codingPath: [any CodingKey]
        var count: Int { box.items.count }

        private func next() -> Slot {
            let slot = Slot()
            box.items.append(slot)
            return slot
        }

        private var nextPath: [any CodingKey] { codingPath + [IndexKey(box.items.count)] }

        mutating func encodeNil() throws { next().content = .value(.null) }

        mutating func encode<T: Encodable>(_ value: T) throws {
            let path = nextPath
            try JSONValueEncoding.encode(value, into: next(), path: path)
        }

        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type)
            -> KeyedEncodingContainer<NestedKey>
        {
            let path = nextPath
            return KeyedEncodingContainer(Keyed<NestedKey>(box: next().object(), codingPath: path))
        }

        mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
            let path = nextPath
            return Unkeyed(box: next().array(), codingPath: path)
        }

        mutating func superEncoder() -> any Swift.Encoder {
            let path = nextPath
            return Encoder(slot: next(), codingPath: path)
        }
    }

    struct Single: SingleValueEncodingContainer {
        let slot: Slot
        let codingPath: [any CodingKey]

        mutating func encodeNil() throws { slot.content = .value(.null) }

        mutating func encode<T: Encodable>(_ value: T) throws {
            try JSONValueEncoding.encode(value, into: slot, path: codingPath)
        }
    }
}

/// An array position as a coding key.
struct IndexKey: CodingKey {
    let intValue: Int?
    var stringValue: String { String(intValue ?? 0) }

    init(_ index: Int) { intValue = index }
    init?(stringValue: String) { nil }
    init?(intValue: Int) { self.intValue = intValue }
}
