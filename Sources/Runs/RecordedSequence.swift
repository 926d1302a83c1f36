import Synchronization

/// Recorded items handed out once each, in order, to whichever task asks: what the replay's
/// stand-ins (model, sandbox, approver) play back.
public final class RecordedSequence<Element: Sendable>: Sendable {
    /// Every item, in order.
    public let items: [Element]
    private let position = Mutex(0)

    /// Creates a sequence over `items`.
    public init(_ items: [Element]) {
        self.items = items
    }

    /// The next item, or `nil` once every item was handed out.
    public func next() -> Element? {
        let index = position.withLock { value in
            defer { value += 1 }
            return value
        }
        return index < items.count ? items[index] : nil
    }
}
