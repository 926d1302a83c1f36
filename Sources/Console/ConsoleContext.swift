import Hummingbird
import NIOCore

/// A request's context in the console: Hummingbird's core, the connection it came on, and on the
/// unix socket the peer the kernel named and the console admitted (set by ``ConsoleGate``).
public struct ConsoleContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The connection (its socket's peer credentials are read through it).
    let channel: any Channel
    /// On the unix socket, who is connected; `nil` on TCP.
    var peer: ConsolePeers.Peer?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
        peer = nil
    }
}
