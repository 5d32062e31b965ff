import Hummingbird
import NIOCore
import Services

/// Hummingbird's request context, plus who is calling: the client address
/// (for the per-IP rate limit) and, once authenticated, the key's owner.
public struct APIContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?
    public var identity: Identity?
    /// How long the client may take to send the body (`[api] body_timeout_ms`, set by `BodyTimeoutMiddleware`).
    public var bodyTimeout: Duration = .seconds(300)

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
        identity = nil
    }

    /// JSON bodies larger than this are refused with 413; CSV uploads stream and have no such cap.
    public var maxUploadSize: Int { 1 << 20 }

    /// The authenticated caller, or 401 when a route is reached without one.
    func caller() throws(APIError) -> Identity {
        guard let identity else { throw APIError.unauthorized("this route needs an API key") }
        return identity
    }
}
