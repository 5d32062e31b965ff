import Foundation
import Messaging
import TestSupport
import Testing

/// The sender lanes' no-wait fetches against a real JetStream, on a stream of their own.
@Suite("JetStream no-wait fetches")
struct JetStreamFetchTests {
    /// A scratch work-queue stream and a durable pull consumer on it, removed by `finish`.
    struct Scratch {
        let jetStream: JetStream
        let name = "FETCHTEST_" + String(UInt64.random(in: 1...UInt64.max), radix: 36).uppercased()
        var subject: String { name + ".job" }
        var consumer: ConsumerDefinition { ConsumerDefinition(stream: name, durable: "lane", filter: name + ".>", ackWaitMs: 30_000) }

        init() throws {
            jetStream = try JetStream(url: try StackEnvironment.value("NATS_URL"))
            try jetStream.ensureStream(StreamDefinition(name: name, subjects: [name + ".>"]))
        }

        func publish(_ count: Int) throws {
            try jetStream.publish((0..<count).map { OutgoingMessage(subject: subject, id: nil, data: Array("job \($0)".utf8)) })
        }

        func finish() { try? jetStream.deleteStream(name) }
    }

    @Test("a no-wait fetch returns every job its request delivered, so a rebind right after leaves none waiting out the ack wait")
    func nothingLeftBehind() async throws {
        let scratch = try Scratch()
        defer { scratch.finish() }
        try scratch.publish(5)
        var binding: PullConsumer? = try scratch.jetStream.pullConsumer(scratch.consumer)
        let first = try binding!.fetchAvailable(batch: 10)
        #expect(first.count == 5, "the request's deliveries are in its own answer")
        // The lane binds again (its tenant was announced anew): the first binding goes.
        binding = nil
        let rebound = try scratch.jetStream.pullConsumer(scratch.consumer)
        let taken = first.count + (try rebound.fetchAvailable(batch: 10)).count
        #expect(taken == 5)
        for message in first { try message.ack() }
        try await eventually("every job acknowledged", timeout: .seconds(30)) {
            let backlog = try scratch.jetStream.backlog(stream: scratch.name, consumer: "lane")
            return backlog?.pending == 0 && backlog?.unacked == 0
        }
    }

    @Test("a no-wait fetch takes at most its batch, answers at once on an empty queue, and settles through the connection")
    func batchesAndSettles() async throws {
        let scratch = try Scratch()
        defer { scratch.finish() }
        let consumer = try scratch.jetStream.pullConsumer(scratch.consumer)
        let started = ContinuousClock.now
        #expect(try consumer.fetchAvailable(batch: 10).isEmpty)
        #expect(ContinuousClock.now - started < .milliseconds(500), "an empty queue costs a round trip, not a wait")
        try scratch.publish(7)
        let three = try consumer.fetchAvailable(batch: 3)
        #expect(three.count == 3)
        let rest = try consumer.fetchAvailable(batch: 10)
        #expect(rest.count == 4, "the first request took only its batch")
        // A nak hands a job back at once; an ack removes it.
        for message in three { try message.nak(delayMs: 0) }
        for message in rest { try message.ack() }
        var again: [ReceivedMessage] = []
        try await eventually("the handed-back jobs delivered again", timeout: .seconds(30)) {
            again += try consumer.fetchAvailable(batch: 10)
            return again.count >= 3
        }
        #expect(again.count == 3 && again.allSatisfy { $0.deliveries == 2 })
        for message in again { try message.ack() }
        try await eventually("every job acknowledged", timeout: .seconds(30)) {
            let backlog = try scratch.jetStream.backlog(stream: scratch.name, consumer: "lane")
            return backlog?.pending == 0 && backlog?.unacked == 0
        }
    }
}
