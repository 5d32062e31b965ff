import Domain
import Foundation
import Persistence
import ProviderModel

/// The stored files a batch or message sends (`attachments`: ids from `POST /api/attachments`, in the order the
/// recipient sees them). Email only; bounded by `Attachment.maxCount` and `Attachment.maxTotalBytes`.
package struct AttachmentChoice: Sendable {
    package var ids: [String]

    package static let member = "attachments"

    package static func parse(_ fields: JSONFields) throws(APIError) -> AttachmentChoice {
        AttachmentChoice(ids: try fields.ids(member, maxCount: Attachment.maxCount, what: "your attachments") {
            "names \($0) files; a message carries at most \(Attachment.maxCount)"
        } ?? [])
    }

    /// Checks the files for the send-config's channel and the user, and names them as batch `batchID`'s. Run inside
    /// the transaction that stores the batch.
    package func attach(_ db: PostgresConnection, userID: String, batchID: String, channel: Channel) throws {
        guard !ids.isEmpty else { return }
        guard channel == .email else {
            throw APIError.invalid(Self.member, "only email carries attachments; this send-config sends \(channel.rawValue)")
        }
        let sizes = try Attachments.sizes(db, userID: userID, ids: ids)
        if let index = ids.firstIndex(where: { sizes[$0] == nil }) {
            throw APIError.invalid("\(Self.member)[\(index)]", "no attachment \(ids[index]) of yours exists")
        }
        let total = ids.reduce(0) { $0 + (sizes[$1] ?? 0) }
        guard total <= Attachment.maxTotalBytes else {
            throw APIError.invalid(Self.member, "the files come to \(total) bytes; a message carries at most \(Attachment.maxTotalBytes)")
        }
        try Attachments.attach(db, batchID: batchID, ids: ids, bytes: total)
    }
}
