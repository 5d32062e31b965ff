import HTTPTypes
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import Services

/// A request the HTTP parser cannot read (a malformed request line, header or chunk) is answered in the
/// API's error shape, `{"error":{"code":"bad_request",…}}` with 400, and the connection closed, instead
/// of a bare 400. If an answer to the request has already begun, the connection is only closed.
final class FramingErrorHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private var answering = false

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head: answering = true
        case .end: answering = false
        case .body: break
        }
        context.write(data, promise: promise)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard error is HTTPParserError else { return context.fireErrorCaught(error) }
        guard !answering else { return context.close(promise: nil) }
        answering = true
        let body = ByteBuffer(bytes: APIError.badRequest("the request is not well-formed HTTP/1.1 (\(error)); nothing in it was read").body)
        let head = HTTPResponse(status: .badRequest, headerFields: [.contentType: "application/json", .contentLength: String(body.readableBytes),
                                                                   .connection: "close"])
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(body)), promise: nil)
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
    }
}
