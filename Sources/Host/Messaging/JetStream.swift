import CNats
import Domain
import Foundation
import Glibc
import HostCore
import NIOConcurrencyHelpers

/// JetStream over one libnats connection: streams and consumers, publishing
/// with a bounded window of unacked messages, and pull consumers. The only
/// code besides `NATSConnection` that touches libnats. Its calls block (up to
/// their timeouts), so they run on storage threads, never on the cooperative
/// pool. libnats reconnects by itself; calls made while it is away fail and
/// the caller retries.
public final class JetStream: @unchecked Sendable {
    private let connection: OpaquePointer
    private let context: OpaquePointer
    /// Where each asynchronous publish's ack goes: to the caller awaiting that one message, or
    /// (a failure) to the list the current batch `publish(_:)` reports.
    private let acks = PublishAcks()
    /// One `publish(_:)` at a time: its wait for acks covers everything the context has pending.
    private let publishing = NIOLock()
    public let namespace: NATSNamespace

    /// `maxPending`: unacked asynchronous publishes in flight before a publish waits.
    /// `url`: NATS_URL, one server or a cluster's list. `namespace`: the deployment's names and replicas,
    /// applied to every stream, subject and consumer this connection touches.
    public init(url: String, namespace: NATSNamespace = .standard, maxPending: Int64 = 4_096, timeoutMs: Int64 = 5_000) throws(NATSError) {
        var options: OpaquePointer?
        guard natsOptions_Create(&options) == NATS_OK, let options else { throw NATSError("libnats could not allocate options") }
        defer { natsOptions_Destroy(options) }
        try NATSServers.apply(url, to: options)
        natsOptions_SetTimeout(options, 2_000)
        // Keep reconnecting for as long as the process lives: a NATS restart pauses work, it does not end it.
        natsOptions_SetMaxReconnect(options, -1)
        natsOptions_SetReconnectWait(options, 250)
        natsOptions_SetRetryOnFailedConnect(options, false, nil, nil)
        natsOptions_SetReconnectBufSize(options, 64 << 20)
        var connection: OpaquePointer?
        let status = natsConnection_Connect(&connection, options)
        guard status == NATS_OK, let connection else {
            throw NATSError("cannot connect to \(NATSServers.redacted(url)): \(Self.text(status))")
        }
        var jsOptions = jsOptions()
        jsOptions_Init(&jsOptions)
        jsOptions.Wait = timeoutMs
        jsOptions.PublishAsync.MaxPending = maxPending
        jsOptions.PublishAsync.StallWait = timeoutMs
        jsOptions.PublishAsync.AckHandler = { _, msg, _, failure, closure in
            guard let closure else { natsMsg_Destroy(msg); return }
            let text = failure.map { $0.pointee.ErrText.map { String(cString: $0) } ?? JetStream.text($0.pointee.Err) }
            Unmanaged<PublishAcks>.fromOpaque(closure).takeUnretainedValue().settle(msg, failure: text)
            natsMsg_Destroy(msg)
        }
        jsOptions.PublishAsync.AckHandlerClosure = Unmanaged.passUnretained(acks).toOpaque()
        var context: OpaquePointer?
        let jsStatus = natsConnection_JetStream(&context, connection, &jsOptions)
        guard jsStatus == NATS_OK, let context else {
            natsConnection_Destroy(connection)
            throw NATSError("JetStream is not available at \(NATSServers.redacted(url)): \(Self.text(jsStatus))")
        }
        self.connection = connection
        self.context = context
        self.namespace = namespace
    }

    deinit {
        jsCtx_Destroy(context)
        natsConnection_Destroy(connection)
    }

    /// Whether the connection is up now (libnats reconnects in the background when it is not).
    public var isConnected: Bool { natsConnection_Status(connection) == NATS_CONN_STATUS_CONNECTED }

    /// Creates the stream, or updates it to `definition` when it exists: safe to call at every start.
    public func ensureStream(_ definition: StreamDefinition) throws(NATSError) {
        var config = jsStreamConfig()
        jsStreamConfig_Init(&config)
        var errorCode = jsErrCode(0)
        let subjects = definition.subjects.map(namespace.subject)
        let status: natsStatus = namespace.stream(definition.name).withCString { name in
            withCStringArray(subjects) { subjects in
                config.Name = name
                config.Subjects = subjects
                config.SubjectsLen = Int32(definition.subjects.count)
                config.Replicas = Int64(namespace.replicas)
                config.Storage = js_FileStorage
                config.Retention = definition.workQueue ? js_WorkQueuePolicy : js_LimitsPolicy
                config.Duplicates = definition.duplicateWindowMs * 1_000_000
                config.MaxAge = definition.maxAgeMs * 1_000_000
                config.MaxMsgSize = Int32(definition.maxMessageBytes)
                var info: UnsafeMutablePointer<jsStreamInfo>?
                var status = js_AddStream(&info, context, &config, nil, &errorCode)
                if status != NATS_OK, errorCode == JSStreamNameExistErr {
                    // Never fewer copies than the stream has: a process started with a config that says less (an
                    // operator's command without --config) must not thin a cluster's streams to one.
                    // A stream whose copies cannot be read now (an election) is left as it is: the start fails and
                    // is tried again, rather than guessing.
                    var existing: UnsafeMutablePointer<jsStreamInfo>?
                    status = js_GetStreamInfo(&existing, context, name, nil, &errorCode)
                    guard status == NATS_OK, let existing else { return status == NATS_OK ? NATS_ERR : status }
                    config.Replicas = max(config.Replicas, existing.pointee.Config.pointee.Replicas)
                    jsStreamInfo_Destroy(existing)
                    status = js_UpdateStream(&info, context, &config, nil, &errorCode)
                }
                if let info { jsStreamInfo_Destroy(info) }
                return status
            }
        }
        guard status == NATS_OK else {
            throw NATSError("stream \(namespace.stream(definition.name)) could not be created: \(lastError(status)) (JetStream code \(errorCode.rawValue))")
        }
    }

    /// Publishes every message asynchronously (at most `maxPending` unacked at
    /// once) and waits until JetStream has acknowledged all of them. Throws when
    /// any was not stored; a message whose `Nats-Msg-Id` was stored before is a
    /// duplicate, which JetStream acknowledges without storing it again.
    public func publish(_ messages: [OutgoingMessage], timeoutMs: Int64 = 10_000) throws(NATSError) {
        publishing.lock()
        defer { publishing.unlock() }
        acks.resetFailures()
        for message in messages {
            var msg: OpaquePointer?
            let status = message.data.withUnsafeBufferPointer { data in
                data.withMemoryRebound(to: CChar.self) { natsMsg_Create(&msg, namespace.subject(message.subject), nil, $0.baseAddress, Int32($0.count)) }
            }
            guard status == NATS_OK, let created = msg else { throw NATSError("libnats could not create a message: \(Self.text(status))") }
            if let id = message.id { natsMsgHeader_Set(created, "Nats-Msg-Id", id) }
            let published = js_PublishMsgAsync(context, &msg, nil)
            if published != NATS_OK {
                if let msg { natsMsg_Destroy(msg) }
                throw NATSError("publish to \(message.subject) failed: \(lastError(published))")
            }
        }
        var options = jsPubOptions()
        jsPubOptions_Init(&options)
        options.MaxWait = timeoutMs
        let complete = js_PublishAsyncComplete(context, &options)
        if complete != NATS_OK {
            // Drop what is still pending: the caller publishes the whole set again, and the ids de-duplicate it.
            var pending = natsMsgList()
            if js_PublishAsyncGetPendingList(&pending, context) == NATS_OK {
                for index in 0..<Int(pending.Count) { acks.settle(pending.Msgs[index], failure: "not acknowledged in time") }
                natsMsgList_Destroy(&pending)
            }
            throw NATSError("JetStream did not acknowledge every publish within \(timeoutMs) ms: \(lastError(complete))")
        }
        if let failure = acks.firstFailure { throw NATSError("JetStream refused a publish: \(failure)") }
    }

    /// Publishes one message and returns once JetStream acknowledged it; throws when it refused it or
    /// did not answer within `timeoutMs`. Many callers may wait at once: each ack resumes its own caller,
    /// and nothing waits for a round. Calls never block for long as long as fewer than `maxPending` wait.
    public func publish(_ message: OutgoingMessage, timeoutMs: Int64) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            publish(message, timeoutMs: timeoutMs) { failure in
                if let failure { continuation.resume(throwing: failure) } else { continuation.resume() }
            }
        }
    }

    /// Publishes one message; `settled` is called once, on a libnats thread (or this one, when the
    /// publish fails at once), with nil when JetStream stored it. The call itself only hands the
    /// message to libnats's buffer: it never waits on the server while fewer than `maxPending` wait,
    /// so an event loop may make it.
    public func publish(_ message: OutgoingMessage, timeoutMs: Int64, settled: @escaping @Sendable (NATSError?) -> Void) {
        var msg: OpaquePointer?
        let status = message.data.withUnsafeBufferPointer { data in
            data.withMemoryRebound(to: CChar.self) { natsMsg_Create(&msg, namespace.subject(message.subject), nil, $0.baseAddress, Int32($0.count)) }
        }
        guard status == NATS_OK, let created = msg else { return settled(NATSError("libnats could not create a message: \(Self.text(status))")) }
        if let id = message.id { natsMsgHeader_Set(created, "Nats-Msg-Id", id) }
        // Registered before the publish: the ack may arrive before js_PublishMsgAsync returns.
        acks.wait(for: created, settled)
        var options = jsPubOptions()
        jsPubOptions_Init(&options)
        options.MaxWait = timeoutMs
        let published = js_PublishMsgAsync(context, &msg, &options)
        if published != NATS_OK {
            if let msg { natsMsg_Destroy(msg) }
            acks.settle(created, failure: "publish to \(message.subject) failed: \(lastError(published))")
        }
    }

    /// Creates the durable pull consumer, or updates an existing one to `definition` (its ack wait and
    /// limits; a changed filter is refused by the server), then binds a pull subscription to it.
    public func pullConsumer(_ definition: ConsumerDefinition) throws(NATSError) -> PullConsumer {
        try ensureConsumer(definition)
        var errorCode = jsErrCode(0)
        var subscription: OpaquePointer?
        let streamName = namespace.stream(definition.stream)
        let status: natsStatus = streamName.withCString { stream in
            definition.durable.withCString { durable in
                namespace.subject(definition.filter).withCString { filter in
                    var options = jsSubOptions()
                    jsSubOptions_Init(&options)
                    options.Stream = stream
                    options.Consumer = durable
                    return js_PullSubscribe(&subscription, context, filter, durable, nil, &options, &errorCode)
                }
            }
        }
        guard status == NATS_OK, let subscription else {
            throw NATSError("consumer \(definition.durable) on \(definition.stream) is not usable: \(lastError(status)) (JetStream code \(errorCode.rawValue))")
        }
        return PullConsumer(subscription: subscription, jetStream: self,
                            nextSubject: "$JS.API.CONSUMER.MSG.NEXT.\(streamName).\(definition.durable)")
    }

    /// A plain (not JetStream) subscription on a fresh inbox, read with `natsSubscription_NextMsg`.
    fileprivate func inboxSubscription() throws(NATSError) -> (subscription: OpaquePointer, name: String) {
        var inbox: UnsafeMutablePointer<natsInbox>?
        guard natsInbox_Create(&inbox) == NATS_OK, let inbox else { throw NATSError("libnats could not make an inbox") }
        defer { natsInbox_Destroy(inbox) }
        let name = String(cString: inbox)
        var subscription: OpaquePointer?
        let status = natsConnection_SubscribeSync(&subscription, connection, name)
        guard status == NATS_OK, let subscription else { throw NATSError("subscribing to an inbox failed: \(lastError(status))") }
        return (subscription, name)
    }

    /// Publishes a core NATS message (a pull request, an ack) without waiting for the server.
    fileprivate func publishCore(subject: String, reply: String?, body: String) throws(NATSError) {
        let status = body.withCString { text in
            if let reply { natsConnection_PublishRequest(connection, subject, reply, text, Int32(strlen(text))) }
            else { natsConnection_Publish(connection, subject, text, Int32(strlen(text))) }
        }
        guard status == NATS_OK else { throw NATSError("publish to \(subject) failed: \(lastError(status))") }
    }

    /// Creates the durable pull consumer, or updates an existing one to `definition`: safe to call at every start.
    public func ensureConsumer(_ definition: ConsumerDefinition) throws(NATSError) {
        var errorCode = jsErrCode(0)
        var failure = ""
        let status: natsStatus = namespace.stream(definition.stream).withCString { stream in
            definition.durable.withCString { durable in
                namespace.subject(definition.filter).withCString { filter in
                    var config = jsConsumerConfig()
                    jsConsumerConfig_Init(&config)
                    config.Durable = durable
                    config.FilterSubject = filter
                    config.AckPolicy = js_AckExplicit
                    config.AckWait = definition.ackWaitMs * 1_000_000
                    config.MaxDeliver = definition.maxDeliver
                    config.MaxAckPending = definition.maxAckPending
                    config.MaxWaiting = 512
                    var info: UnsafeMutablePointer<jsConsumerInfo>?
                    var status = js_AddConsumer(&info, context, stream, &config, nil, &errorCode)
                    if status != NATS_OK {
                        failure = lastError(status)
                        status = js_UpdateConsumer(&info, context, stream, &config, nil, &errorCode)
                        if status != NATS_OK { failure += "; updating it: " + lastError(status) }
                    }
                    if let info { jsConsumerInfo_Destroy(info) }
                    return status
                }
            }
        }
        guard status == NATS_OK else {
            throw NATSError("consumer \(definition.durable) on \(definition.stream) is not usable: \(failure) (JetStream code \(errorCode.rawValue))")
        }
    }

    /// Removes a durable consumer; one that does not exist is no error.
    public func deleteConsumer(stream: String, durable: String) throws(NATSError) {
        var errorCode = jsErrCode(0)
        let status = js_DeleteConsumer(context, namespace.stream(stream), durable, nil, &errorCode)
        guard status == NATS_OK || status == NATS_NOT_FOUND || errorCode == JSConsumerNotFoundErr else {
            throw NATSError("deleting consumer \(durable) on \(stream) failed: \(lastError(status))")
        }
    }

    /// Messages of a stream, read directly by sequence (for inspecting a dead-letter stream).
    public func messages(stream: String, from first: UInt64, limit: Int) throws(NATSError) -> [StoredMessage] {
        var stored: [StoredMessage] = []
        var sequence = max(first, 1)
        let last = try lastSequence(stream: stream)
        while stored.count < limit, sequence <= last {
            var msg: OpaquePointer?
            var errorCode = jsErrCode(0)
            let status = js_GetMsg(&msg, context, namespace.stream(stream), sequence, nil, &errorCode)
            if status == NATS_OK, let msg {
                stored.append(StoredMessage(sequence: sequence, subject: namespace.logical(String(cString: natsMsg_GetSubject(msg))), data: PullConsumer.bytes(of: msg)))
                natsMsg_Destroy(msg)
            } else if status != NATS_NOT_FOUND && errorCode != JSNoMessageFoundErr {
                throw NATSError("reading \(stream) #\(sequence) failed: \(lastError(status))")
            }
            sequence += 1
        }
        return stored
    }

    /// Deletes a stream and everything in it (the benchmark's scratch stream).
    public func deleteStream(_ name: String) throws(NATSError) {
        var errorCode = jsErrCode(0)
        let status = js_DeleteStream(context, namespace.stream(name), nil, &errorCode)
        guard status == NATS_OK else { throw NATSError("deleting stream \(name) failed: \(lastError(status))") }
    }

    /// Removes one message from a stream (a re-driven dead letter).
    public func delete(stream: String, sequence: UInt64) throws(NATSError) {
        var errorCode = jsErrCode(0)
        let status = js_DeleteMsg(context, namespace.stream(stream), sequence, nil, &errorCode)
        guard status == NATS_OK else { throw NATSError("deleting \(stream) #\(sequence) failed: \(lastError(status))") }
    }

    /// The stream's last sequence, for progress.
    public func lastSequence(stream: String) throws(NATSError) -> UInt64 {
        try state(of: stream).lastSequence
    }

    /// Messages a stream holds now.
    public func messageCount(stream: String) throws(NATSError) -> UInt64 {
        try state(of: stream).messages
    }

    /// The counts of the stream's state, copied out before libnats frees the info (and the lists it points to).
    private func state(of stream: String) throws(NATSError) -> (lastSequence: UInt64, messages: UInt64) {
        var info: UnsafeMutablePointer<jsStreamInfo>?
        var errorCode = jsErrCode(0)
        let status = js_GetStreamInfo(&info, context, namespace.stream(stream), nil, &errorCode)
        guard status == NATS_OK, let info else { throw NATSError("stream \(stream) is not readable: \(lastError(status))") }
        defer { jsStreamInfo_Destroy(info) }
        return (info.pointee.State.LastSeq, info.pointee.State.Msgs)
    }

    /// The server that leads the stream in a cluster, and how many replicas it has (nil on a single server).
    public func placement(of stream: String) throws(NATSError) -> (leader: String?, replicas: Int) {
        var info: UnsafeMutablePointer<jsStreamInfo>?
        var errorCode = jsErrCode(0)
        let status = js_GetStreamInfo(&info, context, namespace.stream(stream), nil, &errorCode)
        guard status == NATS_OK, let info else { throw NATSError("stream \(stream) is not readable: \(lastError(status))") }
        defer { jsStreamInfo_Destroy(info) }
        let leader = info.pointee.Cluster?.pointee.Leader.map { String(cString: $0) }
        return (leader, Int(info.pointee.Config.pointee.Replicas))
    }

    /// Messages a durable consumer has not yet been delivered plus those awaiting an ack; nil when the consumer
    /// does not exist (JetStream answered so), as against a failed read, which throws.
    public func backlog(stream: String, consumer: String) throws(NATSError) -> (pending: UInt64, unacked: Int64)? {
        var info: UnsafeMutablePointer<jsConsumerInfo>?
        var errorCode = jsErrCode(0)
        let status = js_GetConsumerInfo(&info, context, namespace.stream(stream), consumer, nil, &errorCode)
        if status == NATS_NOT_FOUND || errorCode == JSConsumerNotFoundErr { return nil }
        guard status == NATS_OK, let info else { throw NATSError("consumer \(consumer) is not readable: \(lastError(status))") }
        defer { jsConsumerInfo_Destroy(info) }
        return (info.pointee.NumPending, Int64(info.pointee.NumAckPending))
    }

    /// Every consumer of a stream with its backlog: messages not yet delivered, and delivered but not acked.
    /// Asked of the JetStream API directly, a page of consumers per request: libnats's `js_Consumers` keeps
    /// memory it never frees (tens of megabytes a second when polled over hundreds of consumers).
    public func consumers(stream: String) throws(NATSError) -> [(name: String, pending: UInt64, unacked: Int64)] {
        var found: [(name: String, pending: UInt64, unacked: Int64)] = []
        while true {
            var reply: OpaquePointer?
            let status = natsConnection_RequestString(&reply, connection, "$JS.API.CONSUMER.LIST.\(namespace.stream(stream))", "{\"offset\":\(found.count)}", 2_000)
            guard status == NATS_OK, let reply else { throw NATSError("consumers of \(stream) are not readable: \(lastError(status))") }
            defer { natsMsg_Destroy(reply) }
            let bytes = PullConsumer.bytes(of: reply)
            guard let page = (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any] else {
                throw NATSError("consumers of \(stream): JetStream answered something that is not JSON")
            }
            if let error = page["error"] as? [String: Any] {
                if error["code"] as? Int == 404 { return [] }
                throw NATSError("consumers of \(stream) are not readable: \(error["description"] as? String ?? "JetStream refused")")
            }
            let consumers = page["consumers"] as? [[String: Any]] ?? []
            for consumer in consumers {
                guard let name = consumer["name"] as? String else { continue }
                found.append((name, (consumer["num_pending"] as? NSNumber)?.uint64Value ?? 0, (consumer["num_ack_pending"] as? NSNumber)?.int64Value ?? 0))
            }
            if consumers.isEmpty || found.count >= (page["total"] as? Int ?? 0) { return found }
        }
    }


    private func lastError(_ status: natsStatus) -> String { Self.lastError(status) }

    /// libnats's last error text on this thread, or the status's own text when it recorded none (it
    /// returns NULL then, as after a JetStream API error such as a consumer not found).
    static func lastError(_ status: natsStatus) -> String {
        guard let pointer = nats_GetLastError(nil) else { return text(status) }
        let recorded = String(cString: pointer)
        return recorded.isEmpty ? text(status) : recorded
    }

    static func text(_ status: natsStatus) -> String { String(cString: natsStatus_GetText(status)) }
}

/// A stream to create: its name, subjects and limits.
public struct StreamDefinition: Sendable {
    public var name: String
    public var subjects: [String]
    /// How long a `Nats-Msg-Id` is remembered for de-duplication.
    public var duplicateWindowMs: Int64
    public var maxAgeMs: Int64
    public var maxMessageBytes: Int
    /// Work-queue retention: a message is removed once acknowledged.
    public var workQueue: Bool

    public init(name: String, subjects: [String], duplicateWindowMs: Int64 = 20 * 60_000, maxAgeMs: Int64 = 0,
                maxMessageBytes: Int = 8 << 20, workQueue: Bool = true) {
        self.name = name
        self.subjects = subjects
        self.duplicateWindowMs = duplicateWindowMs
        self.maxAgeMs = maxAgeMs
        self.maxMessageBytes = maxMessageBytes
        self.workQueue = workQueue
    }
}

/// A durable pull consumer to create.
public struct ConsumerDefinition: Sendable {
    public var stream: String
    public var durable: String
    public var filter: String
    public var ackWaitMs: Int64
    /// JetStream's own cap on deliveries (every redelivery counts, throttling included).
    public var maxDeliver: Int64
    public var maxAckPending: Int64

    public init(stream: String, durable: String, filter: String, ackWaitMs: Int64 = 30_000, maxDeliver: Int64 = -1,
                maxAckPending: Int64 = 20_000) {
        self.stream = stream
        self.durable = durable
        self.filter = filter
        self.ackWaitMs = ackWaitMs
        self.maxDeliver = maxDeliver
        self.maxAckPending = maxAckPending
    }
}

/// One message to publish; `id` becomes `Nats-Msg-Id`.
public struct OutgoingMessage: Sendable {
    public var subject: String
    public var id: String?
    public var data: [UInt8]

    public init(subject: String, id: String?, data: [UInt8]) {
        self.subject = subject
        self.id = id
        self.data = data
    }
}

/// A message read from a stream by sequence.
public struct StoredMessage: Sendable {
    public var sequence: UInt64
    public var subject: String
    public var data: [UInt8]
}

/// A pull subscription on a durable consumer. One caller fetches at a time (a consumer loop, a sender lane);
/// its messages may be settled from any thread.
public final class PullConsumer: @unchecked Sendable {
    private let subscription: OpaquePointer
    /// Kept alive while any of this consumer's messages may still be settled through its connection.
    fileprivate let jetStream: JetStream
    /// `$JS.API.CONSUMER.MSG.NEXT.<stream>.<durable>`: where `fetchAvailable` sends its requests.
    private let nextSubject: String
    /// Where `fetchAvailable`'s requests are answered, made on first use and made anew after one that did not end.
    private var inbox: (subscription: OpaquePointer, name: String)?

    init(subscription: OpaquePointer, jetStream: JetStream, nextSubject: String) {
        self.subscription = subscription
        self.jetStream = jetStream
        self.nextSubject = nextSubject
    }

    deinit {
        natsSubscription_Destroy(subscription)
        if let inbox { natsSubscription_Destroy(inbox.subscription) }
    }

    /// Up to `batch` messages, waiting at most `timeoutMs` for the first; empty when none came.
    public func fetch(batch: Int, timeoutMs: Int64) throws(NATSError) -> [ReceivedMessage] {
        var list = natsMsgList()
        var errorCode = jsErrCode(0)
        let status = natsSubscription_Fetch(&list, subscription, Int32(batch), timeoutMs, &errorCode)
        if status == NATS_TIMEOUT { return [] }
        guard status == NATS_OK else {
            throw NATSError("fetch failed: \(JetStream.lastError(status))")
        }
        return Self.take(&list, from: self)
    }

    /// Up to `batch` messages that are there now, without waiting for more; empty when none are.
    ///
    /// One no-wait pull request (no expiry: with one, the server holds a request that finds nothing until it
    /// expires), read until the server ends it: `batch` messages, or a status after fewer (404 none, 408 the
    /// rest not there). Everything the request delivered is in the answer, none is left in an inbox that a
    /// rebind would drop while JetStream waits out its ack wait. A request the server has not ended within
    /// `timeoutMs` (NATS away) has its inbox drained: what reached it is returned too, and the next request
    /// gets a new inbox.
    public func fetchAvailable(batch: Int, timeoutMs: Int64 = 5_000) throws(NATSError) -> [ReceivedMessage] {
        let inbox: (subscription: OpaquePointer, name: String)
        if let bound = self.inbox { inbox = bound } else {
            inbox = try jetStream.inboxSubscription()
            self.inbox = inbox
        }
        try jetStream.publishCore(subject: nextSubject, reply: inbox.name, body: "{\"batch\":\(batch),\"no_wait\":true}")
        var received: [ReceivedMessage] = []
        let deadline = Self.nowMs() + timeoutMs
        while received.count < batch {
            let remaining = deadline - Self.nowMs()
            guard remaining > 0 else {
                received += drain(inbox.subscription)
                self.inbox = nil
                return received
            }
            var msg: OpaquePointer?
            let status = natsSubscription_NextMsg(&msg, inbox.subscription, remaining)
            if status == NATS_TIMEOUT { continue }
            if status == NATS_NO_RESPONDERS { throw NATSError("fetch failed: the consumer is gone (\(nextSubject))") }
            guard status == NATS_OK, let msg else { throw NATSError("fetch failed: \(JetStream.lastError(status))") }
            if let code = Self.statusCode(of: msg) {
                natsMsg_Destroy(msg)
                // 404 (nothing there) and 408 (the rest is not there, or other requests wait for it) end the request;
                // 100 is a heartbeat; 409 and the rest say why it failed.
                if code == "100" { continue }
                if code == "404" || code == "408" { break }
                // What the request delivered before it failed is handed over, not left to the ack wait.
                if !received.isEmpty { break }
                throw NATSError("fetch failed: JetStream answered \(code)")
            }
            received.append(ReceivedMessage(msg, from: self, settlesThroughConnection: true))
        }
        return received
    }

    /// Unsubscribes an inbox whose request may still deliver, and returns what reached it before the server
    /// saw the unsubscribe (libnats flushes, then hands over what is pending).
    private func drain(_ inbox: OpaquePointer) -> [ReceivedMessage] {
        var received: [ReceivedMessage] = []
        if natsSubscription_Drain(inbox) == NATS_OK {
            while true {
                var msg: OpaquePointer?
                guard natsSubscription_NextMsg(&msg, inbox, 2_000) == NATS_OK, let msg else { break }
                if Self.statusCode(of: msg) != nil { natsMsg_Destroy(msg); continue }
                received.append(ReceivedMessage(msg, from: self, settlesThroughConnection: true))
            }
        }
        natsSubscription_Destroy(inbox)
        return received
    }

    /// The status of a JetStream control message (no data, a `Status` header), nil for a message of the stream.
    private static func statusCode(of msg: OpaquePointer) -> String? {
        guard natsMsg_GetDataLength(msg) == 0 else { return nil }
        var value: UnsafePointer<CChar>?
        guard natsMsgHeader_Get(msg, "Status", &value) == NATS_OK, let value else { return nil }
        return String(String(cString: value).prefix(3))
    }

    private static func nowMs() -> Int64 { Int64(DispatchTime.now().uptimeNanoseconds / 1_000_000) }

    private static func take(_ list: inout natsMsgList, from consumer: PullConsumer) -> [ReceivedMessage] {
        var received: [ReceivedMessage] = []
        received.reserveCapacity(Int(list.Count))
        for index in 0..<Int(list.Count) {
            guard let msg = list.Msgs[index] else { continue }
            list.Msgs[index] = nil
            received.append(ReceivedMessage(msg, from: consumer, settlesThroughConnection: false))
        }
        natsMsgList_Destroy(&list)
        return received
    }

    static func bytes(of msg: OpaquePointer) -> [UInt8] {
        let count = Int(natsMsg_GetDataLength(msg))
        guard count > 0, let data = natsMsg_GetData(msg) else { return [] }
        return data.withMemoryRebound(to: UInt8.self, capacity: count) { Array(UnsafeBufferPointer(start: $0, count: count)) }
    }
}

/// A message delivered by a pull consumer; settle it exactly once with
/// `ack`, `nak(delayMs:)` or `term`, or extend it with `inProgress`.
public final class ReceivedMessage: @unchecked Sendable {
    private let msg: OpaquePointer
    /// libnats settles a message through the subscription it came on (the message does not own it): the
    /// subscription lives as long as any of its messages, however soon its binder lets it go.
    private let consumer: PullConsumer
    /// Delivered to a plain inbox (`fetchAvailable`), which libnats's acks do not know: settled by publishing
    /// the acknowledgement to the message's reply subject, as libnats does for its own.
    private let settlesThroughConnection: Bool
    public let data: [UInt8]
    public let subject: String
    /// How many times JetStream has delivered it (1 the first time).
    public let deliveries: UInt64
    /// Its sequence in its stream, which names it across deliveries (0 when the metadata is missing).
    public let streamSequence: UInt64

    init(_ msg: OpaquePointer, from consumer: PullConsumer, settlesThroughConnection: Bool) {
        self.msg = msg
        self.consumer = consumer
        self.settlesThroughConnection = settlesThroughConnection
        data = PullConsumer.bytes(of: msg)
        subject = consumer.jetStream.namespace.logical(String(cString: natsMsg_GetSubject(msg)))
        var meta: UnsafeMutablePointer<jsMsgMetaData>?
        if natsMsg_GetMetaData(&meta, msg) == NATS_OK, let meta {
            deliveries = meta.pointee.NumDelivered
            streamSequence = meta.pointee.Sequence.Stream
            jsMsgMetaData_Destroy(meta)
        } else {
            deliveries = 1
            streamSequence = 0
        }
    }

    deinit {
        natsMsg_Destroy(msg)
    }

    public func ack() throws(NATSError) {
        if settlesThroughConnection { return try reply("+ACK", "ack") }
        try check(natsMsg_Ack(msg, nil), "ack")
    }
    public func nak(delayMs: Int64) throws(NATSError) {
        if settlesThroughConnection { return try reply(delayMs > 0 ? "-NAK {\"delay\":\(delayMs * 1_000_000)}" : "-NAK", "nak") }
        try check(natsMsg_NakWithDelay(msg, delayMs, nil), "nak")
    }
    public func inProgress() throws(NATSError) {
        if settlesThroughConnection { return try reply("+WPI", "in-progress") }
        try check(natsMsg_InProgress(msg, nil), "in-progress")
    }
    public func term() throws(NATSError) {
        if settlesThroughConnection { return try reply("+TERM", "term") }
        try check(natsMsg_Term(msg, nil), "term")
    }

    private func reply(_ body: String, _ what: String) throws(NATSError) {
        guard let reply = natsMsg_GetReply(msg) else { throw NATSError("\(what) failed: the message has no reply subject") }
        do { try consumer.jetStream.publishCore(subject: String(cString: reply), reply: nil, body: body) } catch {
            throw NATSError("\(what) failed: \(error)")
        }
    }

    private func check(_ status: natsStatus, _ what: String) throws(NATSError) {
        guard status == NATS_OK else { throw NATSError("\(what) failed: \(JetStream.text(status))") }
    }
}

/// Routes libnats's publish acks: a message someone awaits (by its address, known before it is
/// published and unique until it is destroyed) resumes that caller; a failure of any other message
/// is collected for the batch `publish(_:)` under way.
final class PublishAcks: @unchecked Sendable {
    private let lock = NIOLock()
    private var failures: [String] = []
    private var waiters: [UInt: @Sendable (NATSError?) -> Void] = [:]

    func wait(for msg: OpaquePointer, _ settled: @escaping @Sendable (NATSError?) -> Void) {
        lock.withLock { waiters[UInt(bitPattern: msg)] = settled }
    }

    /// `failure` nil: stored. Called at most once per message.
    func settle(_ msg: OpaquePointer?, failure: String?) {
        let waiter = lock.withLock { () -> (@Sendable (NATSError?) -> Void)? in
            if let msg, let waiter = waiters.removeValue(forKey: UInt(bitPattern: msg)) { return waiter }
            if let failure { failures.append(failure) }
            return nil
        }
        waiter?(failure.map { NATSError("JetStream did not store the message: \($0)") })
    }

    func resetFailures() { lock.withLock { failures.removeAll() } }
    var firstFailure: String? { lock.withLock { failures.first } }
}

func withCStringArray<R>(_ strings: [String], _ body: (UnsafeMutablePointer<UnsafePointer<CChar>?>) -> R) -> R {
    let copies = strings.map { strdup($0) }
    defer { copies.forEach { free($0) } }
    var pointers: [UnsafePointer<CChar>?] = copies.map { UnsafePointer($0) }
    return pointers.withUnsafeMutableBufferPointer { body($0.baseAddress!) }
}

#if canImport(Glibc)
#endif
