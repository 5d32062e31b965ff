import Hummingbird
import Logging
import NIOCore
import Services

/// Hummingbird's request context for the dashboard: who is signed in (if anyone), the form a POST carried
/// (read once by `CSRFMiddleware`), and the source the sender API's in-process context is made from.
public struct WebContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The connection and logger the sender API's in-process context is made from.
    let channel: any Channel
    let requestLogger: Logger
    var session: Session?
    /// The anonymous visitor's CSRF token (the `bs_csrf` cookie), for the sign-in and register forms.
    var visitorToken: String?
    var form: FormData = FormData()
    /// Whether the browser reached us over TLS (through a trusted proxy): cookies are `Secure` and `__Host-` then.
    var secure = false
    /// The client as the sign-in limits count it (`ClientAddress`: the peer, or behind trusted proxies the
    /// address they forwarded for).
    var clientAddress = "local"

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
        requestLogger = source.logger
    }

    var source: ApplicationRequestContextSource { ApplicationRequestContextSource(channel: channel, logger: requestLogger) }
    var remoteAddress: SocketAddress? { channel.remoteAddress }

    /// The token a form on this page must carry.
    var csrfToken: String { session?.csrfToken ?? visitorToken ?? "" }

    func user() throws(WebRefusal) -> Session {
        guard let session else { throw WebRefusal.signIn }
        return session
    }
}

/// Why a page was not served: sent to sign in, or refused with a status and a reason.
enum WebRefusal: Error {
    case signIn
    case refused(HTTPResponse.Status, String)
}
