import Foundation
import ProviderCrypto
import ProviderKit

extension SESProvider {
    public func prepare(_ messages: [OutboundMessage], context: some PluginContext) throws(PluginFailure) -> PreparedSend {
        guard (1...Self.descriptor.maxBatch).contains(messages.count) else {
            throw PluginFailure(.invalidArgument, field: "messages", "\(messages.count) messages; SES takes 1 to \(Self.descriptor.maxBatch) per call")
        }
        var refused: [SendOutcome] = []
        var single: [(Int, SESTemplateChoice?)] = []
        // Templated messages from one sender with one template and reply-to go together through SendBulkEmail.
        var bulk: [String: [(Int, SESTemplateChoice)]] = [:]
        var bulkOrder: [String] = []
        for (index, message) in messages.enumerated() {
            let field = "messages[\(index)]"
            let template: SESTemplateChoice?
            switch SESTemplateChoice.read(message.payload, field: field) {
            case .success(let choice): template = choice
            case .failure(let refusal):
                refused.append(.permanent(index, code: refusal.code, refusal.message))
                continue
            }
            if let problem = SESRequestBody.problem(message, template: template, field: field) {
                refused.append(.permanent(index, code: problem.code, problem.message))
                continue
            }
            // Files go with SendEmail: a bulk entry has no attachments of its own.
            if let template, message.attachments.isEmpty {
                let key = [message.from, template.name, message.replyTo.joined(separator: ",")].joined(separator: "\n")
                if bulk[key] == nil { bulkOrder.append(key) }
                bulk[key, default: []].append((index, template))
            } else {
                single.append((index, template))
            }
        }
        var requests: [PreparedRequest] = []
        for key in bulkOrder {
            guard let group = bulk[key], let first = group.first else { continue }
            if group.count == 1 {
                single.append((first.0, first.1))
                continue
            }
            let body = SESRequestBody.bulkEmail(group.map { messages[$0.0] }, template: first.1.name,
                                                data: group.map { $0.1.data }, configurationSet: configurationSet)
            requests.append(request(path: "/v2/email/outbound-bulk-emails", body: body, indices: group.map { $0.0 }, context: context))
        }
        for (index, template) in single.sorted(by: { $0.0 < $1.0 }) {
            let body = SESRequestBody.sendEmail(messages[index], template: template, configurationSet: configurationSet)
            requests.append(request(path: "/v2/email/outbound-emails", body: body, indices: [index], context: context))
        }
        return PreparedSend(requests: requests, refused: refused)
    }

    /// A SigV4-signed JSON POST. SES has no idempotency key: a retry after a
    /// lost response can send twice, which the host's outcome log has to accept.
    func request(path: String, body bytes: [UInt8], indices: [Int], context: some PluginContext) -> PreparedRequest {
        let url = baseURL + path
        let headers = signer.sign(method: "POST", url: url,
                                  headers: [KeyValue("content-type", "application/json"), KeyValue("user-agent", Self.userAgent)],
                                  body: bytes, nowMilliseconds: context.nowMilliseconds)
        return PreparedRequest(method: "POST", url: url, headers: headers, body: bytes, messageIndices: indices)
    }

    /// SES sends no Retry-After. A rate throttle clears within seconds (the host backs off further on repeats);
    /// AWS asks for a pause after an exhausted daily quota, which resets within a day.
    static let throttleRetryMs: Int64 = 1_000
    static let dailyQuotaRetryMs: Int64 = 3_600_000

    public func interpret(_ result: HTTPResult, for messages: [OutboundMessage], context: some PluginContext) -> [SendOutcome] {
        if let failure = result.transportFailure {
            return messages.indices.map { .retryable($0, code: "transport_\(failure.rawValue)", result.transportMessage) }
        }
        let document = JSONValue.parse(result.body)
        guard (200...299).contains(result.status) else {
            let error = SESError(result, document: document)
            return messages.indices.map { error.outcome($0, retryAfterMs: result.retryAfterMs(nowMs: context.nowMilliseconds)) }
        }
        if let entries = document?["BulkEmailEntryResults"]?.arrayValue {
            return messages.indices.map { index in
                guard index < entries.count else {
                    return .retryable(index, code: "unreadable_response", "SendBulkEmail answered \(entries.count) results for \(messages.count) entries")
                }
                return Self.bulkOutcome(entries[index], index: index)
            }
        }
        guard messages.count == 1, let id = document?["MessageId"]?.stringValue, !id.isEmpty else {
            return messages.indices.map { .retryable($0, code: "unreadable_response", "HTTP \(result.status) without MessageId") }
        }
        return [.accepted(0, id: id)]
    }

    /// One `BulkEmailEntryResult`: `Status`, `Error`, `MessageId`.
    static func bulkOutcome(_ entry: JSONValue, index: Int) -> SendOutcome {
        let status = entry["Status"]?.stringValue ?? ""
        let message = entry["Error"]?.stringValue ?? status
        switch status {
        case "SUCCESS":
            guard let id = entry["MessageId"]?.stringValue, !id.isEmpty else {
                return .retryable(index, code: "unreadable_response", "SUCCESS without MessageId")
            }
            return .accepted(index, id: id)
        case "ACCOUNT_THROTTLED": return .throttled(index, after: throttleRetryMs, code: status, message)
        case "TRANSIENT_FAILURE": return .retryable(index, code: status, message)
        case "ACCOUNT_DAILY_QUOTA_EXCEEDED": return .throttled(index, after: dailyQuotaRetryMs, code: status, message)
        case "": return .retryable(index, code: "unreadable_response", "a bulk entry result without Status")
        default: return .permanent(index, code: status, message)
        }
    }
}

/// An SES error response: the type from `x-amzn-ErrorType` (before any `:`),
/// else the body's `__type` or `code` (after any `#`); the text from `message`.
struct SESError {
    var type: String
    var message: String
    var status: Int

    init(_ result: HTTPResult, document: JSONValue?) {
        status = result.status
        let header = result.headers.first(named: "x-amzn-errortype").map { String($0.prefix { $0 != ":" }) }
        let bodyType = (document?["__type"] ?? document?["code"] ?? document?["Code"])?.stringValue
            .map { $0.split(separator: "#").last.map(String.init) ?? $0 }
        type = [header, bodyType].compactMap { $0 }.first { !$0.isEmpty } ?? "HTTP\(result.status)"
        message = (document?["message"] ?? document?["Message"])?.stringValue ?? "HTTP \(result.status)"
    }

    static let retryableTypes: Set<String> = [
        "TooManyRequestsException", "ThrottlingException", "Throttling", "RequestTimeout", "RequestTimeoutException",
        "InternalFailure", "ServiceUnavailable", "ServiceUnavailableException",
    ]

    /// The account's sending rate or quota, not the message: AWS's throttling error types, and any 429.
    static let throttlingTypes: Set<String> = ["TooManyRequestsException", "ThrottlingException", "Throttling"]

    var isThrottling: Bool {
        status == 429 || Self.throttlingTypes.contains(type) || type.localizedCaseInsensitiveContains("throttl")
    }

    func outcome(_ index: Int, retryAfterMs: Int64?) -> SendOutcome {
        // A bare 408 is a proxy or load balancer giving up on the request: nothing about the message is wrong.
        guard Self.retryableTypes.contains(type) || status >= 500 || status == 429 || status == 408 else {
            // LimitExceededException is about resource counts in SES v2, not rates: retrying cannot help.
            return .permanent(index, code: type, message)
        }
        let pause = retryAfterMs ?? (message.localizedCaseInsensitiveContains("daily message quota")
            ? SESProvider.dailyQuotaRetryMs
            : (type == "TooManyRequestsException" ? SESProvider.throttleRetryMs : nil))
        return isThrottling ? .throttled(index, after: pause, code: type, message) : .retryable(index, after: pause, code: type, message)
    }
}
