import App
import Analytics
import Domain
import Foundation
import HostCore
import Messaging
import Persistence

/// The queue's own speed on this machine, for comparison with the pipeline:
/// N small messages published asynchronously (bounded window) to a scratch
/// file-backed stream, then pulled in batches and acknowledged.
struct RawJetStreamRate {
    let natsURL: String

    struct Figures {
        var publishPerSecond: Double
        var consumePerSecond: Double
        /// N over publish plus consume time: one message through the queue, both ends.
        var throughPerSecond: Double
    }

    func measure(messages: Int, bytes: Int = 200) throws -> Figures {
        let jetStream = try JetStream(url: natsURL)
        let name = "bench-raw-\(getpid())"
        try jetStream.ensureStream(StreamDefinition(name: name, subjects: ["bench.raw.\(getpid())"], duplicateWindowMs: 60_000))
        defer { try? jetStream.deleteStream(name) }
        let payload = [UInt8](repeating: UInt8(ascii: "x"), count: bytes)
        let start = Date()
        let window = 10_000
        for first in stride(from: 0, to: messages, by: window) {
            let count = min(window, messages - first)
            try jetStream.publish((0..<count).map { _ in OutgoingMessage(subject: "bench.raw.\(getpid())", id: nil, data: payload) })
        }
        let published = Date()
        let consumer = try jetStream.pullConsumer(ConsumerDefinition(stream: name, durable: "raw", filter: "bench.raw.\(getpid())"))
        var received = 0
        while received < messages {
            let batch = try consumer.fetch(batch: 256, timeoutMs: 5_000)
            guard !batch.isEmpty else { throw CommandFailure("the raw JetStream measure stalled at \(received) of \(messages)") }
            for message in batch { try message.ack() }
            received += batch.count
        }
        let consumed = Date()
        let publishTime = published.timeIntervalSince(start), consumeTime = consumed.timeIntervalSince(published)
        return Figures(publishPerSecond: Double(messages) / publishTime, consumePerSecond: Double(messages) / consumeTime,
                       throughPerSecond: Double(messages) / (publishTime + consumeTime))
    }
}
