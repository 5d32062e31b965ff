/// Version 12: messages' `Idempotency-Key`s join those of batch creations and sends in `idempotency_keys`
/// (route `POST /api/messages`, the request's hash as the fingerprint), so that one mechanism, with one
/// 24-hour lifetime, answers all three. A message keeps the answer its request got (`first_answer`).
/// Additive on purpose: `batches.idempotency_key` and `request_hash` stay (this version neither reads nor
/// writes them), so that processes of the previous version still running during a rolling deploy keep
/// answering `POST /api/messages`; a later version drops them once none can be running.
enum OneIdempotencyMechanism {
    static let migration = Migration(version: 12, name: "one idempotency mechanism", sql: """
        INSERT INTO idempotency_keys (user_id, key, route, fingerprint, resource_id, created_at)
        SELECT user_id, idempotency_key, 'POST /api/messages', request_hash, id, created_at
        FROM batches WHERE idempotency_key IS NOT NULL
        ON CONFLICT (user_id, key) DO NOTHING;
        """)
}
