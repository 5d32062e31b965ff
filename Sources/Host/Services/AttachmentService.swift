import Domain
import HostCore
import Persistence
import ProviderCrypto
import ProviderModel

/// A user's stored files: uploaded once, listed, read and deleted; batches and messages name them
/// (`AttachmentChoice`).
package struct AttachmentService: Sendable {
    let database: Database

    package init(database: Database) { self.database = database }

    /// Stores a file; its description as JSON.
    package func upload(userID: String, filename: String, contentType: String, content: [UInt8]) async throws(APIError) -> String {
        if let problem = Attachment.filenameProblem(filename) { throw APIError.invalid("query.filename", problem) }
        if let problem = Attachment.contentTypeProblem(contentType) { throw APIError.invalid("header.content-type", problem) }
        guard !content.isEmpty else { throw APIError.invalid("body", "is empty; send the file's bytes as the body") }
        guard content.count <= Attachment.maxTotalBytes else {
            throw APIError.tooLarge("a file is at most \(Attachment.maxTotalBytes) bytes", field: "body")
        }
        let sha256 = Encoding.hex(Digest.sha256(content))
        return try await database.transaction { db in
            let stored = try Attachments.insert(db, userID: userID, filename: filename, contentType: contentType, content: content, sha256: sha256)
            try AuditLog.record(db, userID: userID, action: "attachment.created", subject: "attachment", id: stored.id)
            return stored.json
        }
    }

    package func list(userID: String, cursor: String?, limit: Int) async throws(APIError) -> (rows: [String], next: String?) {
        try await database.run { db in
            if let cursor, try !Attachments.exists(db, userID: userID, id: cursor) {
                throw APIError.invalid("query.cursor", "is not a cursor this listing gave")
            }
            return try Attachments.page(db, userID: userID, cursor: cursor, limit: limit)
        }
    }

    package func find(userID: String, id: String) async throws(APIError) -> String {
        guard let json = try await database.run({ db in try Attachments.find(db, userID: userID, id: id) }) else {
            throw APIError.notFound("attachment \(id)", field: "path.id")
        }
        return json
    }

    /// Hides the file from listings and new batches; the batches that name it still send it.
    package func delete(userID: String, id: String) async throws(APIError) {
        let deleted = try await database.transaction { db in
            let deleted = try Attachments.delete(db, userID: userID, id: id)
            if deleted { try AuditLog.record(db, userID: userID, action: "attachment.deleted", subject: "attachment", id: id) }
            return deleted
        }
        guard deleted else { throw APIError.notFound("attachment \(id)", field: "path.id") }
    }
}
