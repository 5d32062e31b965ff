import Domain
import Foundation
import Persistence
import ProviderModel

/// What a batch or message sends: a payload given inline, or a stored template's version (`templateId`, with
/// `templateVersion` when not the latest). A request names exactly one of them.
package enum MessageContent: Sendable {
    case payload(JSONFields)
    case template(id: String, version: Int?)

    /// The request members that choose the content.
    package static let members: Set<String> = ["payload", "templateId", "templateVersion"]

    /// The content a request's members choose, or the member at fault.
    package static func parse(_ fields: JSONFields) throws(APIError) -> MessageContent {
        let payload = fields.object["payload"].flatMap { $0 == .null ? nil : $0 }
        let templateText = try fields.string("templateId", maxLength: 64)
        let version = try fields.integer("templateVersion", range: 1...Int(Int32.max))
        switch (payload, templateText) {
        case (let payload?, nil):
            guard version == nil else { throw APIError.invalid(fields.field("templateVersion"), "names a version of a template: give templateId with it") }
            return .payload(try JSONFields(payload, path: fields.field("payload"), allowed: BatchPayload.members))
        case (nil, let text?):
            guard let id = UUID(uuidString: text)?.uuidString.lowercased() else {
                throw APIError.invalid(fields.field("templateId"), "must be the id of one of your templates")
            }
            return .template(id: id, version: version)
        case (.some, .some):
            throw APIError.invalid(fields.field("payload"), "give either payload or templateId, not both")
        case (nil, nil):
            throw APIError.invalid(fields.field("payload"), "is required (or name a stored template with templateId)")
        }
    }

    /// The payload to store, checked for the send-config, and the template version it came from (nil for an
    /// inline payload). Run inside the transaction that stores the batch: the payload is copied, so a template
    /// changed or deleted afterwards does not change what the batch sends.
    package func resolve(_ db: PostgresConnection, userID: String, channel: Channel,
                         defaults: [String: String]) throws -> (payload: JSONValue, template: (id: String, version: Int)?) {
        switch self {
        case .payload(let fields):
            return (try BatchPayload.check(fields, channel: channel, defaults: defaults), nil)
        case .template(let id, let version):
            guard let stored = try Templates.version(db, userID: userID, id: id, version: version) else {
                if let version, try Templates.channel(db, userID: userID, id: id) != nil {
                    throw APIError.invalid("templateVersion", "template \(id) has no version \(version)")
                }
                throw APIError.invalid("templateId", "no template \(id) of yours exists")
            }
            guard stored.channel == channel else {
                throw APIError.invalid("templateId", "template \(id) is for \(stored.channel.rawValue), the send-config sends \(channel.rawValue)")
            }
            let fields = try JSONFields(JSONFields.document(Array(stored.payloadJSON.utf8)), path: "templateId", allowed: BatchPayload.members)
            return (try BatchPayload.check(fields, channel: channel, defaults: defaults), (id, stored.version))
        }
    }
}
