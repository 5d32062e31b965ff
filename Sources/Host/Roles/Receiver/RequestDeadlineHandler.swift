import NIOCore
import NIOHTTP1

/// Closes an HTTP/1 connection that does not finish a request within `deadline` of when it could start
/// one (it opened, or its last reply was written): an idle one is closed, one still sending gets 408 and
/// is closed. A request fully read waits for its reply without a deadline: the handler behind answers it.
/// So a slow or silent client holds a connection for no longer than that. Sits after NIO's HTTP codec.
final class RequestDeadlineHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private enum State { case idle, reading, answering, closing }

    private let deadline: TimeAmount
    private var state = State.idle
    private var timer: Scheduled<Void>?

    init(deadline: TimeAmount) {
        self.deadline = deadline
    }

    func channelActive(context: ChannelHandlerContext) {
        arm(context: context)
        context.fireChannelActive()
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { arm(context: context) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard state != .closing else { return }
        switch unwrapInboundIn(data) {
        case .head: if state == .idle { state = .reading }
        case .body: break
        case .end:
            timer?.cancel()
            state = .answering
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data), state == .answering {
            state = .idle
            arm(context: context)
        }
        context.write(data, promise: promise)
    }

    private func arm(context: ChannelHandlerContext) {
        timer?.cancel()
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(in: deadline) {
            let (this, context) = bound.value
            switch this.state {
            case .idle: context.close(promise: nil)
            case .reading: this.timeOut(context: context)
            case .answering, .closing: break
            }
        }
    }

    private func timeOut(context: ChannelHandlerContext) {
        state = .closing
        let body = Array(#"{"error":{"code":"timeout","message":"the request was not received within \#(deadline.nanoseconds / 1_000_000) ms"}}"#.utf8)
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: "application/json")
        headers.add(name: "content-length", value: String(body.count))
        headers.add(name: "connection", value: "close")
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .requestTimeout, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: body)))), promise: nil)
        let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in bound.value.close(promise: nil) }
    }
}
