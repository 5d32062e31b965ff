import Foundation
import ProviderCrypto
import ProviderKit

extension ResendProvider {
    public func prepare(_ messages: [OutboundMessage], context: some PluginContext) throws(PluginFailure) -> PreparedSend {
        guard (1...Self.descriptor.maxBatch).contains(messages.count) else {
            throw PluginFailure(.invalidArgument, field: "messages", "\(messages.count) messages; Resend takes 1 to \(Self.descriptor.maxBatch)")
        }
        var refused: [SendOutcome] = []
        var carried: [Int] = []
        var emails: [ResendEmail] = []
        for (index, message) in messages.enumerated() {
            if let (code, text) = ResendEmail.problem(message, index: index) {
                refused.append(.permanent(index, code: code, text))
            } else {
                carried.append(index)
                emails.append(ResendEmail(message))
            }
        }
        guard !carried.isEmpty else { return PreparedSend(requests: [], refused: refused) }

        let headers = [
            KeyValue("authorization", "Bearer \(apiKey)"),
            KeyValue("user-agent", Self.userAgent),
            KeyValue("content-type", "application/json"),
        ]
        // The batch endpoint drops attachments without a word: an email with files goes alone, through `POST /emails`.
        let alone = carried.count == 1 ? [0] : emails.indices.filter { !emails[$0].attachments.isEmpty }
        var requests: [PreparedRequest] = []
        for position in alone {
            let index = carried[position]
            var body = JSONWriter(capacity: 512 + emails[position].attachments.reduce(0) { $0 + Base64.encodedCount($1.content.count) + 128 })
            emails[position].write(into: &body)
            requests.append(PreparedRequest(method: "POST", url: baseURL + "/emails",
                                            headers: headers + [KeyValue("idempotency-key", Self.idempotencyKey(messages[index].idempotencyKey))],
                                            body: body.bytes, messageIndices: [index]))
        }
        let together = emails.indices.filter { !alone.contains($0) }
        if together.count == 1, let position = together.first {
            var body = JSONWriter(capacity: 512)
            emails[position].write(into: &body)
            requests.append(PreparedRequest(method: "POST", url: baseURL + "/emails",
                                            headers: headers + [KeyValue("idempotency-key", Self.idempotencyKey(messages[carried[position]].idempotencyKey))],
                                            body: body.bytes, messageIndices: [carried[position]]))
        } else if together.count > 1 {
            var body = JSONWriter(capacity: 512 * together.count)
            body.beginArray()
            for position in together { emails[position].write(into: &body) }
            body.endArray()
            let indices = together.map { carried[$0] }
            let keys = indices.map { messages[$0].idempotencyKey }.joined(separator: "\n")
            // Permissive: valid emails go even when one is refused, and the response says which.
            requests.append(PreparedRequest(method: "POST", url: baseURL + "/emails/batch",
                                            headers: headers + [KeyValue("x-batch-validation", "permissive"),
                                                                KeyValue("idempotency-key", "batch_" + Encoding.hex(Digest.sha256(Array(keys.utf8))))],
                                            body: body.bytes, messageIndices: indices))
        }
        return PreparedSend(requests: requests, refused: refused)
    }

    /// Resend takes keys of up to 256 printable characters; anything else is sent as its SHA-256.
    static func idempotencyKey(_ key: String) -> String {
        let printable = !key.isEmpty && key.utf8.count <= 256 && key.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7f }
        return printable ? key : "sha256_" + Encoding.hex(Digest.sha256(Array(key.utf8)))
    }

    public func interpret(_ result: HTTPResult, for messages: [OutboundMessage], context: some PluginContext) -> [SendOutcome] {
        let indices = Array(messages.indices)
        if let failure = result.transportFailure {
            return indices.map { .retryable($0, code: "transport_\(failure.rawValue)", result.transportMessage) }
        }
        let document = JSONValue.parse(result.body)
        guard (200...299).contains(result.status) else {
            return indices.map { ResendError(result, document: document, nowMs: context.nowMilliseconds).outcome(for: $0) }
        }
        if messages.count == 1 {
            guard let id = document?["id"]?.stringValue, !id.isEmpty else {
                // Sent or not, the retry carries the same Idempotency-Key, so Resend will not send twice.
                return [.retryable(0, code: "unreadable_response", "HTTP \(result.status) without an email id")]
            }
            return [.accepted(0, id: id)]
        }
        return batchOutcomes(document, count: messages.count)
    }

    /// `{"data":[{"id"}…], "errors":[{"index","message"}…]}`: ids in input order, skipping the refused indices.
    private func batchOutcomes(_ document: JSONValue?, count: Int) -> [SendOutcome] {
        let ids = document?["data"]?.arrayValue?.map { $0["id"]?.stringValue ?? "" } ?? []
        var refusedAt: [Int: String] = [:]
        for error in document?["errors"]?.arrayValue ?? [] {
            // An index of 1e30, -1 or 0.5 names no message: skipped, never converted with a trap.
            guard case .number(let position)? = error["index"], let index = BoundedInteger.exactly(position, in: 0...Int64(Int32.max)).map(Int.init),
                  (0..<count).contains(index) else { continue }
            refusedAt[index] = error["message"]?.stringValue ?? "refused by Resend"
        }
        let sentIndices = (0..<count).filter { refusedAt[$0] == nil }
        guard ids.count == sentIndices.count, !ids.contains(where: \.isEmpty) else {
            return (0..<count).map {
                .retryable($0, code: "unreadable_response", "batch response has \(ids.count) ids for \(sentIndices.count) sent emails")
            }
        }
        var outcomes: [SendOutcome] = []
        var next = ids.makeIterator()
        for index in 0..<count {
            if let message = refusedAt[index] {
                outcomes.append(.permanent(index, code: "validation_error", message))
            } else if let id = next.next() {
                outcomes.append(.accepted(index, id: id))
            }
        }
        return outcomes
    }
}

/// Resend's error body `{"statusCode","name","message"}` and what to do about it.
struct ResendError {
    var status: Int
    var name: String
    var message: String
    var retryAfterMs: Int64?

    init(_ result: HTTPResult, document: JSONValue?, nowMs: Int64) {
        status = result.status
        name = document?["name"]?.stringValue ?? ""
        message = document?["message"]?.stringValue ?? "HTTP \(status)"
        retryAfterMs = result.retryAfterMs(nowMs: nowMs)
    }

    func outcome(for index: Int) -> SendOutcome {
        let code = name.isEmpty ? String(status) : name
        // Resend's rate and quotas (429, any name) and an idempotent request still in flight are not the
        // message's fault: throttled, so the wait spends none of its attempts.
        switch (status, name) {
        case (429, "daily_quota_exceeded"):
            return .throttled(index, after: 3_600_000, code: code, message)
        case (429, "monthly_quota_exceeded"):
            return .throttled(index, after: 86_400_000, code: code, message)
        case (429, _):
            return .throttled(index, after: retryAfterMs, code: code, message)
        case (409, "concurrent_idempotent_requests"):
            return .throttled(index, after: retryAfterMs ?? 1000, code: code, message)
        case (408, _), (500...599, _):
            return .retryable(index, after: retryAfterMs, code: code, message)
        default:
            return .permanent(index, code: code, message)
        }
    }
}
