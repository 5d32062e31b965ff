import Analytics
import Domain
import HostCore
import Messaging
import NIOCore
import NIOHTTP1
import Persistence
import ProviderInstances
import ProviderModel

/// One receiver connection's requests, on its event loop: routes them, reads a webhook's body up to
/// the limit, hands it to the intake and writes the reply when it comes (from whichever thread).
/// NIO's pipeline handler in front keeps a connection's pipelined requests in order, one at a time.
///
/// A connection must finish a request within `deadline` of when it could start one (it opened, or
/// its last reply was written): an idle connection is then closed, one still sending gets 408 and is
/// closed. So a slow or silent client holds nothing for longer than that.
final class ReceiverHTTPHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    /// What the webhook routes need. The port is public: it serves webhooks and `GET /health`, nothing an
    /// operator alone should read (`/metrics` is on the API port, or the ops port of a receiver run apart).
    struct Routes: Sendable {
        var intake: WebhookIntake
        var maxBodyBytes: Int
        var deadline: TimeAmount
    }

    private enum State {
        case idle
        /// Reading a webhook's body.
        case reading(HTTPRequestHead, WebhookRoute, ByteBuffer)
        /// Reading a request whose answer is already known (a refusal, health).
        case answering(HTTPRequestHead, status: HTTPResponseStatus, body: [UInt8], contentType: String)
        /// The body was over the limit: the rest is dropped and the connection closed after the reply.
        case discarding
        case waitingForReply(HTTPRequestHead)
    }

    private struct WebhookRoute {
        var provider: String
        var sendConfigID: String?
        var path: String
    }

    private let routes: Routes
    private var state = State.idle
    /// Counts requests, so a reply that comes after its connection moved on is dropped.
    private var requestNumber = 0
    private var timer: Scheduled<Void>?

    init(routes: Routes) {
        self.routes = routes
    }

    func channelActive(context: ChannelHandlerContext) {
        armDeadline(context: context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head): begin(head, context: context)
        case .body(var chunk):
            switch state {
            case .reading(let head, let route, var body):
                guard body.readableBytes + chunk.readableBytes <= routes.maxBodyBytes else {
                    state = .discarding
                    return write(status: .payloadTooLarge, json: WebhookReply.error(.payloadTooLarge, "too_large",
                        "the body is over \(routes.maxBodyBytes) bytes").body, keepAlive: false, context: context)
                }
                state = .idle // drops the buffer's second reference, so the append below does not copy it
                body.writeBuffer(&chunk)
                state = .reading(head, route, body)
            default: break
            }
        case .end:
            timer?.cancel()
            switch state {
            case .reading(let head, let route, var body):
                state = .waitingForReply(head)
                let call = WebhookCall(provider: route.provider, sendConfigID: route.sendConfigID, request: InboundWebhook(
                    method: "POST", path: route.path, headers: head.headers.map { KeyValue(Self.lowercased($0.name), $0.value) },
                    body: body.readBytes(length: body.readableBytes) ?? []))
                requestNumber += 1
                let number = requestNumber
                let handler = NIOLoopBound((self, context), eventLoop: context.eventLoop)
                routes.intake.receive(call) { reply in
                    handler.eventLoop.execute {
                        let (this, context) = handler.value
                        guard this.requestNumber == number, case .waitingForReply(let head) = this.state else { return }
                        this.write(status: reply.status, json: reply.body, keepAlive: head.isKeepAlive, context: context)
                    }
                }
            case .answering(let head, let status, let body, let contentType):
                write(status: status, body: body, contentType: contentType, keepAlive: head.isKeepAlive, context: context)
            case .discarding, .idle, .waitingForReply: break
            }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    private func begin(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
        let path = head.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
        let parts = path.split(separator: "/").map(String.init)
        func answer(_ reply: WebhookReply) {
            state = .answering(head, status: reply.status, body: Array(reply.body.utf8), contentType: "application/json")
        }
        switch (head.method, parts.first, parts.count) {
        case (.POST, "webhooks", 2), (.POST, "webhooks", 3):
            let declared = head.headers.first(name: "content-length").flatMap(Int.init)
            if let declared, declared > routes.maxBodyBytes {
                // Refused before its body is read: the rest of it is not read either, so the connection ends.
                state = .discarding
                return write(status: .payloadTooLarge, json: WebhookReply.error(.payloadTooLarge, "too_large",
                    "the body is \(declared) bytes; at most \(routes.maxBodyBytes) are taken").body, keepAlive: false, context: context)
            }
            let body = context.channel.allocator.buffer(capacity: min(declared ?? 4_096, routes.maxBodyBytes))
            // One spelling of a config's id from here on (the cache's key, the stored envelope's).
            let sendConfigID = parts.count == 3 ? WebhookInstances.canonicalID(parts[2]) ?? parts[2] : nil
            state = .reading(head, WebhookRoute(provider: parts[1], sendConfigID: sendConfigID, path: path), body)
        case (.GET, "health", 1):
            answer(.json(.ok, ["status": .string("ok")]))
        case (_, "webhooks", 2), (_, "webhooks", 3):
            answer(.error(.methodNotAllowed, "method_not_allowed", "\(path) takes POST"))
        case (_, "health", 1):
            answer(.error(.methodNotAllowed, "method_not_allowed", "\(path) takes GET"))
        default:
            answer(.error(.notFound, "not_found", "no route \(path); webhooks go to /webhooks/{provider} or /webhooks/{provider}/{sendConfigId}"))
        }
    }

    private func write(status: HTTPResponseStatus, json: String, keepAlive: Bool, context: ChannelHandlerContext) {
        write(status: status, body: Array(json.utf8), contentType: "application/json", keepAlive: keepAlive, context: context)
    }

    private func write(status: HTTPResponseStatus, body: [UInt8], contentType: String, keepAlive: Bool, context: ChannelHandlerContext) {
        var headers = HTTPHeaders()
        headers.reserveCapacity(4)
        headers.add(name: "content-type", value: contentType)
        headers.add(name: "content-length", value: String(body.count))
        headers.add(name: "server", value: "batchsender-receiver")
        if !keepAlive { headers.add(name: "connection", value: "close") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: body)))), promise: nil)
        let discarding = if case .discarding = state { true } else { false }
        state = discarding ? .discarding : .idle
        if keepAlive {
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            if !discarding { armDeadline(context: context) }
        } else {
            timer?.cancel()
            let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in bound.value.close(promise: nil) }
        }
    }

    /// Most clients send lower-case names already (HTTP/2 must): those are kept, not copied.
    private static func lowercased(_ name: String) -> String {
        name.utf8.contains { (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0) } ? name.lowercased() : name
    }

    private func armDeadline(context: ChannelHandlerContext) {
        timer?.cancel()
        let handler = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(in: routes.deadline) {
            let (this, context) = handler.value
            switch this.state {
            case .reading, .answering:
                this.state = .discarding
                this.write(status: .requestTimeout, json: WebhookReply.error(.requestTimeout, "timeout",
                    "the request was not received within \(this.routes.deadline.nanoseconds / 1_000_000) ms").body, keepAlive: false, context: context)
            case .idle, .discarding:
                context.close(promise: nil)
            case .waitingForReply:
                break
            }
        }
    }
}
