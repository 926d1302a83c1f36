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
        try JSONValueEncoding.member(value) { [] }.resolved
    }
}

/// The machinery behind ``JSONValueEncoder``: a tree of reference slots that containers write
/// into, resolved into a value once encoding ends. A primitive member is stored as its value, not
/// in a slot of its own, and a coding path is built only for a nested container or an error: the
/// trace encodes every event of every step through here.
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

    /// A member or an item: a value written whole, or a slot a nested container writes into.
    enum Member {
        case value(JSONValue)
        case slot(Slot)

        var resolved: JSONValue {
            switch self {
            case .value(let value): value
            case .slot(let slot): slot.resolved
            }
        }
    }

    final class ObjectBox {
        var members: [String: Member] = [:]

        /// A new slot for `key`, replacing what it held.
        func slot(_ key: String) -> Slot {
            let slot = Slot()
            members[key] = .slot(slot)
            return slot
        }
    }

    final class ArrayBox {
        var items: [Member] = []

        /// A new slot at the end.
        func slot() -> Slot {
            let slot = Slot()
            items.append(.slot(slot))
            return slot
        }
    }

    /// The value of a primitive (or of a ``JSONValue``) without going through a container, or
    /// `nil` when `value` is not one.
    static func primitive<T: Encodable>(_ value: T, path: @autoclosure () -> [any CodingKey]) throws -> JSONValue? {
        // Compared by metatype first: a struct or enum of a payload (most values here) is told
        // apart by one comparison per primitive, where a chain of `as?` casts asks the runtime to
        // cast it to each in turn.
        let type = T.self
        if type == String.self, let string = value as? String { return .string(string) }
        if type == Int.self, let int = value as? Int { return .integer(Int64(int)) }
        if type == Bool.self, let bool = value as? Bool { return .bool(bool) }
        if type == Int64.self, let int = value as? Int64 { return .integer(int) }
        if type == Double.self, let double = value as? Double { return try number(double, value, path()) }
        if type == JSONValue.self, let json = value as? JSONValue { return json }
        guard Self.otherPrimitives.contains(ObjectIdentifier(type)) else { return nil }
        switch value {
        case let int as Int32: return .integer(Int64(int))
        case let int as Int16: return .integer(Int64(int))
        case let int as Int8: return .integer(Int64(int))
        case let int as UInt8: return .integer(Int64(int))
        case let int as UInt16: return .integer(Int64(int))
        case let int as UInt32: return .integer(Int64(int))
        case let int as UInt64:
            guard let exact = Int64(exactly: int) else { throw invalid(value, path(), "is above Int64.max") }
            return .integer(exact)
        case let int as UInt:
            guard let exact = Int64(exactly: int) else { throw invalid(value, path(), "is above Int64.max") }
            return .integer(exact)
        case let float as Float:
            return try number(Double(float), value, path())
        default:
            return nil
        }
    }

    /// The primitives besides the common ones checked first.
    private static let otherPrimitives: Set<ObjectIdentifier> = [
        ObjectIdentifier(Int32.self), ObjectIdentifier(Int16.self), ObjectIdentifier(Int8.self),
        ObjectIdentifier(UInt8.self), ObjectIdentifier(UInt16.self), ObjectIdentifier(UInt32.self),
        ObjectIdentifier(UInt64.self), ObjectIdentifier(UInt.self), ObjectIdentifier(Float.self),
    ]

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

    /// `value` as a member: its value when it is a primitive, else a slot it encoded itself into
    /// (given `path()`, the member's coding path, built only then).
    static func member<T: Encodable>(_ value: T, path: () -> [any CodingKey]) throws -> Member {
        if let direct = try primitive(value, path: path()) { return .value(direct) }
        let slot = Slot()
        try value.encode(to: Encoder(slot: slot, codingPath: path()))
        return .slot(slot)
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

        mutating func encodeNil(forKey key: Key) throws { box.members[key.stringValue] = .value(.null) }
        mutating func encode(_ value: String, forKey key: Key) throws {
            box.members[key.stringValue] = .value(.string(value))
        }
        mutating func encode(_ value: Bool, forKey key: Key) throws {
            box.members[key.stringValue] = .value(.bool(value))
        }
        mutating func encode(_ value: Int, forKey key: Key) throws {
            box.members[key.stringValue] = .value(.integer(Int64(value)))
        }
        mutating func encode(_ value: Int64, forKey key: Key) throws {
            box.members[key.stringValue] = .value(.integer(value))
        }

        mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
            let path = codingPath
            box.members[key.stringValue] = try JSONValueEncoding.member(value) { path + [key] }
        }

        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key)
            -> KeyedEncodingContainer<NestedKey>
        {
            KeyedEncodingContainer(
                Keyed<NestedKey>(box: box.slot(key.stringValue).object(), codingPath: codingPath + [key]))
        }

        mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
            Unkeyed(box: box.slot(key.stringValue).array(), codingPath: codingPath + [key])
        }

        mutating func superEncoder() -> any Swift.Encoder {
            Encoder(slot: box.slot("super"), codingPath: codingPath)
        }

        mutating func superEncoder(forKey key: Key) -> any Swift.Encoder {
            Encoder(slot: box.slot(key.stringValue), codingPath: codingPath + [key])
        }
    }

    struct Unkeyed: UnkeyedEncodingContainer {
        let box: ArrayBox
        let codingPath: [any CodingKey]
        var count: Int { box.items.count }

        private var nextPath: [any CodingKey] { codingPath + [IndexKey(box.items.count)] }

        mutating func encodeNil() throws { box.items.append(.value(.null)) }
        mutating func encode(_ value: String) throws { box.items.append(.value(.string(value))) }

        mutating func encode<T: Encodable>(_ value: T) throws {
            let (path, index) = (codingPath, box.items.count)
            box.items.append(try JSONValueEncoding.member(value) { path + [IndexKey(index)] })
        }

        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type)
            -> KeyedEncodingContainer<NestedKey>
        {
            let path = nextPath
            return KeyedEncodingContainer(Keyed<NestedKey>(box: box.slot().object(), codingPath: path))
        }

        mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
            let path = nextPath
            return Unkeyed(box: box.slot().array(), codingPath: path)
        }

        mutating func superEncoder() -> any Swift.Encoder {
            let path = nextPath
            return Encoder(slot: box.slot(), codingPath: path)
        }
    }

    struct Single: SingleValueEncodingContainer {
        let slot: Slot
        let codingPath: [any CodingKey]

        mutating func encodeNil() throws { slot.content = .value(.null) }

        mutating func encode<T: Encodable>(_ value: T) throws {
            let path = codingPath
            switch try JSONValueEncoding.member(value, path: { path }) {
            case .value(let value): slot.content = .value(value)
            case .slot(let encoded): slot.content = encoded.content
            }
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
