import Hummingbird
import NIOCore

/// Hummingbird's request context plus the connection, which the fault
/// injector closes to drop a request or lose its response.
public struct SandboxContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    let channel: any Channel

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }

    /// Bodies above this are refused with 413 before they are read whole.
    public var maxUploadSize: Int { 64 << 20 }
}
