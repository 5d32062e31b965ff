import Domain
import HostCore
/// Version 8: the `Idempotency-Key`s of batch creations and sends. A key is claimed in the same
/// transaction as the work it guards, so a retry either finds the work done (and is answered with its
/// result) or does it; two at once are ordered by the primary key.
enum IdempotencyKeys {
    static let migration = Migration(version: 8, name: "idempotency keys", sql: """
        CREATE TABLE idempotency_keys (
            user_id uuid NOT NULL,
            key text NOT NULL,
            route text NOT NULL,
            fingerprint text NOT NULL,
            resource_id uuid NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (user_id, key));
        """)
}
