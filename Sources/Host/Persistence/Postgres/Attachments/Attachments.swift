import Domain
import ProviderModel

/// The `attachments` and `batch_attachments` tables: files a user uploaded once, and the files each batch or
/// message names, in order. Always scoped to their owner; a deleted file is hidden, its bytes kept for the
/// batches that name it.
public enum Attachments {
    /// A file's description, never its bytes (`a`).
    static let summaryJSON = """
        jsonb_build_object('id', a.id, 'filename', a.filename, 'contentType', a.content_type, 'size', a.size,
                           'sha256', a.sha256, 'createdAt', a.created_at)
        """

    /// The files batch `b` names, in order, described.
    static let ofBatchJSON = """
        (SELECT coalesce(jsonb_agg(jsonb_build_object('id', a.id, 'filename', a.filename, 'contentType', a.content_type,
                                                      'size', a.size) ORDER BY ba.position), '[]'::jsonb)
         FROM batch_attachments ba JOIN attachments a ON a.id = ba.attachment_id WHERE ba.batch_id = b.id)
        """

    /// A new file: its id, and its description as JSON.
    public static func insert(_ db: PostgresConnection, userID: String, filename: String, contentType: String, content: [UInt8],
                              sha256: String) throws(PostgresError) -> (id: String, json: String) {
        // Sent as base64 text: the connection speaks text parameters, and bytea's hex form would be twice the size.
        let encoded = content.withUnsafeBytes { Base64.encode($0) }
        let row = try db.query("""
            INSERT INTO attachments AS a (user_id, filename, content_type, size, sha256, content)
            VALUES ($1, $2, $3, $4::integer, $5, decode($6, 'base64')) RETURNING a.id, \(summaryJSON)::text
            """, [userID, filename, contentType, String(content.count), sha256, encoded]).first
        return (row?[0] ?? "", row?[1] ?? "{}")
    }

    /// A live file of the user's, described; nil when there is none.
    public static func find(_ db: PostgresConnection, userID: String, id: String) throws(PostgresError) -> String? {
        try db.query("SELECT \(summaryJSON)::text FROM attachments a WHERE a.id = $1 AND a.user_id = $2 AND a.deleted_at IS NULL",
                     [id, userID]).first?[0] ?? nil
    }

    /// Whether the user has a live file with this id (a listing's cursor).
    public static func exists(_ db: PostgresConnection, userID: String, id: String) throws(PostgresError) -> Bool {
        try !db.query("SELECT 1 FROM attachments WHERE id = $1 AND user_id = $2 AND deleted_at IS NULL", [id, userID]).isEmpty
    }

    /// The user's live files, newest first; `cursor` is the last id of the previous page.
    public static func page(_ db: PostgresConnection, userID: String, cursor: String?, limit: Int) throws(PostgresError) -> (rows: [String], next: String?) {
        let rows = try db.query("""
            SELECT \(summaryJSON)::text, a.id FROM attachments a
            WHERE a.user_id = $1 AND a.deleted_at IS NULL
              AND ($2::uuid IS NULL OR (a.created_at, a.id) < (SELECT created_at, id FROM attachments WHERE id = $2))
            ORDER BY a.created_at DESC, a.id DESC LIMIT $3
            """, [userID, cursor, String(limit + 1)])
        let page = rows.prefix(limit)
        return (page.compactMap { $0[0] }, rows.count > limit ? page.last?[1] ?? nil : nil)
    }

    /// Hides a live file from listings and new batches; false when there is none.
    public static func delete(_ db: PostgresConnection, userID: String, id: String) throws(PostgresError) -> Bool {
        try !db.query("UPDATE attachments SET deleted_at = now() WHERE id = $1 AND user_id = $2 AND deleted_at IS NULL RETURNING id",
                      [id, userID]).isEmpty
    }

    /// The sizes of the user's live files among `ids`, by id: an id missing here is not one of them.
    public static func sizes(_ db: PostgresConnection, userID: String, ids: [String]) throws(PostgresError) -> [String: Int] {
        var sizes: [String: Int] = [:]
        for row in try db.query("SELECT id, size FROM attachments WHERE id = ANY($1::uuid[]) AND user_id = $2 AND deleted_at IS NULL",
                                [PostgresArray.literal(ids.map { Optional($0) }), userID]) {
            if let id = row[0], let size = row[1].flatMap({ Int($0) }) { sizes[id] = size }
        }
        return sizes
    }

    /// Names `ids` (checked with `sizes`) as the files of a new batch, in order, with their count and bytes.
    public static func attach(_ db: PostgresConnection, batchID: String, ids: [String], bytes: Int) throws(PostgresError) {
        guard !ids.isEmpty else { return }
        _ = try db.query("""
            INSERT INTO batch_attachments (batch_id, position, attachment_id)
            SELECT $1, ord - 1, id FROM unnest($2::uuid[]) WITH ORDINALITY AS u(id, ord)
            """, [batchID, PostgresArray.literal(ids.map { Optional($0) })])
        _ = try db.query("UPDATE batches SET attachment_count = $2::smallint, attachment_bytes = $3::integer WHERE id = $1",
                         [batchID, String(ids.count), String(bytes)])
    }

    /// The ids of the files a batch names, in order.
    public static func ids(_ db: PostgresConnection, batchID: String) throws(PostgresError) -> [String] {
        try db.query("SELECT attachment_id FROM batch_attachments WHERE batch_id = $1 ORDER BY position", [batchID]).compactMap { $0[0] }
    }

    /// The files with these ids, bytes and all, by id (deleted ones too: a batch that named one still sends it).
    public static func contents(_ db: PostgresConnection, ids: [String]) throws(PostgresError) -> [String: Attachment] {
        var files: [String: Attachment] = [:]
        for row in try db.query("""
            SELECT id, filename, content_type, translate(encode(content, 'base64'), E'\\n', '') FROM attachments WHERE id = ANY($1::uuid[])
            """, [PostgresArray.literal(ids.map { Optional($0) })]) {
            guard let id = row[0], let bytes = row[3].flatMap(Base64.decode) else { continue }
            files[id] = Attachment(filename: row[1] ?? "", contentType: row[2] ?? "", content: AttachmentBytes(bytes))
        }
        return files
    }
}
