import Analytics
import Domain
import Foundation
import HostCore
import Messaging
import NIOPosix
import Persistence
import Synchronization
import ProviderInstances
import Templating
import TestSupport
import Testing

/// Against the real PostgreSQL that `scripts/stack up` starts (DATABASE_URL from .env.dev),
/// in a scratch database per run.
@Suite("PostgreSQL storage and migrations")
struct StorageTests {
    /// A fresh database without the schema, dropped when `body` returns.
    func withScratchDatabase(_ body: (String) throws -> Void) throws {
        let scratch = try ScratchDatabase(purpose: "storage", migrated: false)
        defer { scratch.drop() }
        try body(scratch.url)
    }

    @Test("migrate applies every version once, in order, and a second run applies nothing")
    func migratesOnce() throws {
        try withScratchDatabase { url in
            let connection = try PostgresConnection(url: url)
            #expect(try Migrator().migrate(connection) == Array(1...23))
            #expect(try Migrator().migrate(connection) == [])
            #expect(try Migrator().currentVersion(connection) == 23)
            let tables = try connection.query("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1")
                .compactMap { $0[0] }
            #expect(tables == ["api_keys", "attachments", "audit_log", "batch_attachments", "batch_events", "batches", "idempotency_keys", "provider_messages", "rate_limit_overrides", "recipient_events", "recipients", "schema_migrations", "send_configs",
                               "suppressions", "template_versions", "templates", "users", "web_sessions", "webhook_dead_letters", "webhook_orphans"])
        }
    }

    @Test("a migrator waiting for another's lock holds no statement open: the holder's concurrent index build does not wait for it", .timeLimit(.minutes(2)))
    func migratorWaitsWithoutASnapshot() async throws {
        let scratch = try ScratchDatabase(purpose: "storage", migrated: false)
        do { try await holdAndBuild(url: scratch.url) } catch { await scratch.dropOffThread(); throw error }
        await scratch.dropOffThread()
    }

    /// The lock's holder and the waiting migrator, each on a thread of its own (both block in libpq): the versions
    /// the waiting one applied once the holder let go.
    func holdAndBuild(url: String) async throws {
        final class Waiting: @unchecked Sendable {
            var result: Result<[Int], any Error>?
            let finished = DispatchSemaphore(value: 0)
        }
        let migrated = try await onOwnThread { () throws -> [Int] in
            let holder = try PostgresConnection(url: url)
            _ = try Migrator(migrations: Array(Migrator.all.prefix(1))).migrate(holder)
            _ = try holder.query("SELECT pg_advisory_lock($1)", [String(Migrator.lockId)])
            let waiting = Waiting()
            Thread.detachNewThread {
                waiting.result = Result { try Migrator().migrate(PostgresConnection(url: url)) }
                waiting.finished.signal()
            }
            // Until the other migrator has asked for the lock (its last statement, shown while it waits or sleeps).
            let asked = """
                SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()
                  AND backend_type = 'client backend' AND query LIKE '%advisory_lock%'
                """
            while try holder.query(asked).first?[0] == "0" { Thread.sleep(forTimeInterval: 0.02) }
            // What a migration's `concurrently` statements do while another process starts: a statement that waited for
            // the lock held a snapshot, which this build waited for, and PostgreSQL failed one of the two as a deadlock.
            try holder.execute("CREATE INDEX CONCURRENTLY schema_migrations_by_name ON schema_migrations (name)")
            _ = try holder.query("SELECT pg_advisory_unlock($1)", [String(Migrator.lockId)])
            waiting.finished.wait()
            return try waiting.result!.get()
        }
        #expect(migrated == Array(2...Migrator.all.count))
    }

    @Test("the schema refuses what the platform never stores: an unknown batch status, a recipient twice in a batch, a recipient or an event without its batch")
    func constraints() throws {
        try withScratchDatabase { url in
            let connection = try PostgresConnection(url: url)
            try Migrator().migrate(connection)
            let (_, batch) = try draftBatch(connection)
            #expect(throws: PostgresError.self) {
                try connection.execute("UPDATE batches SET status = 'sending' WHERE id = '\(batch)'")
            }
            _ = try connection.query("INSERT INTO recipients (batch_id, position, address) VALUES ($1, 0, 'x@example.org')", [batch])
            #expect(try Recipients.write(connection, batchID: batch, [.init(position: 0, status: .sent, providerMessageID: "m-0", attempts: 1)],
                                         uncancelling: false).count == 1)
            do {
                _ = try connection.query("INSERT INTO recipients (batch_id, position, address) VALUES ($1, 1, 'x@example.org')", [batch])
                Issue.record("a duplicate address was stored")
            } catch let error as PostgresError {
                #expect(error.kind == .statement(sqlState: "23505"), "\(error)")
            }
            #expect(throws: PostgresError.self) {
                try connection.transaction { () throws(PostgresError) in
                    _ = try connection.query("INSERT INTO recipients (batch_id, position, address) VALUES ($1, 2, 'y@example.org')", [batch])
                    try connection.execute("SELECT 1/0")
                }
            }
            #expect(try connection.query("SELECT count(*) FROM recipients").first?[0] == "1", "a failed transaction leaves nothing behind")
            for sql in ["INSERT INTO recipients (batch_id, position, address) VALUES (gen_random_uuid(), 0, 'z@example.org')",
                        "UPDATE recipients SET batch_id = gen_random_uuid()"] {
                do {
                    try connection.execute(sql)
                    Issue.record("a recipient without its batch was stored: \(sql)")
                } catch let error as PostgresError {
                    #expect(error.kind == .statement(sqlState: "23503"), "\(error)")
                }
            }
            // Recipient events keep the same guarantees with a check per statement (version 19), not a key per row.
            #expect(try connection.query("SELECT count(*) FROM pg_constraint WHERE conrelid = 'recipient_events'::regclass AND contype = 'f'").first?[0] == "0")
            let event = "INSERT INTO recipient_events (batch_id, position, provider, event_id, type, occurred_at, received_at) VALUES "
            try connection.execute(event + "('\(batch)', 0, 'resend', 'e1', 'delivered', now(), now())")
            for sql in [event + "('\(batch)', 0, 'resend', 'e2', 'delivered', now(), now()), (gen_random_uuid(), 0, 'resend', 'e3', 'delivered', now(), now())",
                        "UPDATE recipient_events SET batch_id = gen_random_uuid()"] {
                do {
                    try connection.execute(sql)
                    Issue.record("an event without its batch was stored: \(sql)")
                } catch let error as PostgresError {
                    #expect(error.kind == .statement(sqlState: "23503"), "\(error)")
                }
            }
            #expect(try connection.query("SELECT count(*) FROM recipient_events").first?[0] == "1", "a refused statement keeps none of its events")
            #expect(try connection.query("SELECT count(*) FROM provider_messages").first?[0] == "1", "the send's id is looked up apart")
            // One index (version 21), keyed by recipient: an event is kept once per recipient, and the same event id
            // of another recipient is its own.
            #expect(try connection.query("SELECT indexdef FROM pg_indexes WHERE tablename = 'recipient_events'").compactMap { $0[0] }
                    == [#"CREATE UNIQUE INDEX recipient_events_pkey ON public.recipient_events USING btree (batch_id, "position", provider, event_id)"#])
            func row(_ position: Int) -> RecipientEvents.Row {
                .init(batchID: batch, position: position, provider: "resend", eventID: "e1", type: "delivered", bounceClass: nil,
                      occurredAt: "2026-01-01T00:00:00Z", receivedAt: "2026-01-01T00:00:00Z", reason: nil, code: nil, url: nil)
            }
            #expect(try RecipientEvents.keep(connection, [row(0)]).isEmpty, "kept before")
            #expect(try RecipientEvents.keep(connection, [row(1), row(1)]) == [row(1).identity], "another recipient's, once")
            #expect(try RecipientEvents.history(connection, batchID: batch, position: 0).count == 1)
            try connection.execute("DELETE FROM batches WHERE id = '\(batch)'")
            #expect(try connection.query("SELECT count(*) FROM recipients").first?[0] == "0", "a deleted batch takes its recipients along")
            #expect(try connection.query("SELECT count(*) FROM provider_messages").first?[0] == "0", "a deleted batch takes its recipients' lookup along")
            #expect(try connection.query("SELECT count(*) FROM recipient_events").first?[0] == "0", "a deleted batch takes its events along")
        }
    }

    @Test("a send's write and a webhook's move change recipients in place (HOT), and the webhooks still find them by provider message id")
    func updatesInPlace() throws {
        try withScratchDatabase { url in
            let db = try PostgresConnection(url: url)
            try Migrator().migrate(db)
            let (config, batch) = try draftBatch(db)
            let count = 2_000
            // A move finds room on its page once the send's old versions are pruned, which PostgreSQL does only when
            // no transaction on the whole server (any database) began before the send ended, and no other process
            // pins the page. With other tests' transactions open, only 116 of 2,000 moves were in place: the moves
            // wait below until the server's oldest transaction is younger than the send, and autovacuum is kept off
            // these tables.
            try db.execute("ALTER TABLE recipients SET (autovacuum_enabled = off); ALTER TABLE provider_messages SET (autovacuum_enabled = off)")
            try db.execute("""
                INSERT INTO recipients (batch_id, position, address, variables)
                SELECT '\(batch)', g, 'r' || g || '@example.org', jsonb_build_object('name', 'Name ' || g) FROM generate_series(1, \(count)) g
                """)
            // The server's count of this backend's HOT updates not yet reported to the statistics, read before and
            // after within one transaction (nothing is reported inside one).
            func inPlace(_ body: () throws(PostgresError) -> Void) throws -> Int {
                try db.transaction { () throws(PostgresError) -> Int in
                    let hot = "SELECT pg_stat_get_xact_tuples_hot_updated('recipients'::regclass)"
                    let before = Int(try db.query(hot).first?[0] ?? "0") ?? 0
                    try body()
                    return (Int(try db.query(hot).first?[0] ?? "0") ?? 0) - before
                }
            }
            // Ids as long as Resend's and Telnyx's (36 characters): a send's row grows by the id and `sent_at`, and
            // at half-full pages (version 20) only about four in five of them found room on their page.
            func id(_ position: Int) -> String { "m-" + String(repeating: "0", count: 34 - String(position).count) + String(position) }
            let sends = (1...count).map { Recipients.Update(position: $0, status: .sent, providerMessageID: id($0), attempts: 1) }
            var sendXid = ""
            let sentInPlace = try inPlace { () throws(PostgresError) in
                #expect(try Recipients.write(db, batchID: batch, sends, uncancelling: false).count == count)
                sendXid = try db.query("SELECT pg_current_xact_id()::text").first?[0] ?? ""
            }
            #expect(sentInPlace >= count * 99 / 100, "\(sentInPlace) of \(count) sends updated in place")
            var prunable = false
            for _ in 0..<1_200 where !prunable {
                prunable = try db.query("SELECT pg_snapshot_xmin(pg_current_snapshot()) > $1::xid8", [sendXid]).first?[0] == "t"
                if !prunable { _ = try db.query("SELECT pg_sleep(0.1)") }
            }
            #expect(prunable, "a transaction older than the send (transaction \(sendXid)) was still open after two minutes")

            let found = try Recipients.matching(db, messageIDs: [id(7), id(1999), "unknown"], providers: ["resend", "resend", "resend"],
                                                scopes: [config, config, config])
            #expect(found.map(\.index).sorted() == [0, 1] && Set(found.map(\.position)) == [7, 1999], "\(found.map { ($0.index, $0.position) })")

            let moves = (1...count).map { (batchID: batch, position: $0, status: RecipientStatus.delivered) }
            let movedInPlace = try inPlace { () throws(PostgresError) in
                #expect(try Recipients.moveForward(db, moves) == count)
            }
            #expect(movedInPlace >= count / 2, "\(movedInPlace) of \(count) moves updated in place")
            let failed = try inPlace { () throws(PostgresError) in
                _ = try db.query("UPDATE recipients SET status = 'failed' WHERE batch_id = $1 AND position <= 10", [batch])
            }
            #expect(failed == 0, "a rare status enters the by-status index: not in place")

            // Rare statuses are found through the by-status index (this transaction's scans of it, counted by the server).
            try db.execute("ANALYZE recipients")
            func byIndex<T>(_ body: () throws(PostgresError) -> T) throws -> (T, scans: Int) {
                try db.transaction { () throws(PostgresError) -> (T, scans: Int) in
                    let scans = "SELECT pg_stat_get_xact_numscans('recipients_by_rare_status'::regclass)"
                    let before = Int(try db.query(scans).first?[0] ?? "0") ?? 0
                    let value = try body()
                    return (value, (Int(try db.query(scans).first?[0] ?? "0") ?? 0) - before)
                }
            }
            let none = try byIndex { () throws(PostgresError) in try Recipients.retryable(db, batchID: batch, all: true) }
            #expect(none.0 == [] && none.scans > 0, "failed with a provider message id: not retried; \(none.scans) index scans")
            try db.execute("UPDATE recipients SET provider_message_id = NULL WHERE batch_id = '\(batch)' AND position <= 3")
            #expect(try Recipients.retryable(db, batchID: batch, all: true) == [1, 2, 3])
            let failedPage = try byIndex { () throws(PostgresError) in
                try Recipients.page(db, batchID: batch, status: .failed, after: 0, limit: 100).rows.count
            }
            #expect(failedPage.0 == 10 && failedPage.scans > 0, "\(failedPage)")
            #expect(try Recipients.page(db, batchID: batch, status: .delivered, after: 0, limit: 5000).rows.count == count - 10)

            // The queries' list of statuses left out of the index is the column's.
            for (offset, status) in RecipientStatus.allCases.enumerated() {
                let rare = try db.query("""
                    UPDATE recipients SET status = $2 WHERE batch_id = $1 AND position = $3 RETURNING rare_status
                    """, [batch, status.rawValue, String(100 + offset)]).first?[0] ?? nil
                #expect(rare == Recipients.rare(status)?.rawValue, "\(status): rare_status \(rare ?? "null")")
            }

            // A send in flight at a cancel overtakes it, and its id is looked up like any other.
            _ = try db.query("UPDATE recipients SET status = 'cancelled' WHERE batch_id = $1 AND position = 200", [batch])
            #expect(try Recipients.write(db, batchID: batch, [.init(position: 200, status: .sent, providerMessageID: "late", attempts: 1)],
                                         uncancelling: true).count == 1)
            #expect(try Recipients.matching(db, messageIDs: ["late"], providers: ["resend"], scopes: [config]).map(\.position) == [200])
        }
    }

    @Test("migrations 20 to 23 on a database with sent and failed recipients and their events: ids looked up, failed ones found by index, pages kept half full then filled to 40 %, events kept once, a send recorded twice found once and deleted with its batch")
    func upgradesInPlace() throws {
        try withScratchDatabase { url in
            let db = try PostgresConnection(url: url)
            #expect(try Migrator(migrations: Array(Migrator.all.prefix(19))).migrate(db) == Array(1...19))
            let (config, batch) = try draftBatch(db)
            try db.execute("""
                INSERT INTO recipients (batch_id, position, address, status, provider_message_id)
                SELECT '\(batch)', g, 'r' || g || '@example.org', CASE WHEN g % 3 = 0 THEN 'failed' ELSE 'sent' END,
                       CASE WHEN g % 3 = 0 THEN NULL ELSE 'm-' || g END
                FROM generate_series(1, 300) g
                """)
            #expect(try Migrator(migrations: Array(Migrator.all.prefix(20))).migrate(db) == [20])
            let found = try Recipients.matching(db, messageIDs: ["m-1", "m-299", "m-3"], providers: ["resend", "resend", "resend"],
                                                scopes: [config, config, config])
            #expect(Set(found.map(\.position)) == [1, 299], "\(found.map { ($0.index, $0.position) })")
            #expect(try Recipients.retryable(db, batchID: batch, all: true).count == 100)
            #expect(try Recipients.page(db, batchID: batch, status: .failed, after: 0, limit: 500).rows.count == 100)
            #expect(try db.query("SELECT reloptions::text FROM pg_class WHERE relname = 'recipients'").first?[0] == "{fillfactor=50}")

            // Migration 21 re-keys the events a database holds: each still kept once, a recipient's history still found.
            try db.execute("""
                INSERT INTO recipient_events (batch_id, position, provider, event_id, type, occurred_at, received_at)
                SELECT '\(batch)', g, 'resend', 'e-' || g, 'delivered', now(), now() FROM generate_series(1, 300) g
                """)
            #expect(try Migrator(migrations: Array(Migrator.all.prefix(21))).migrate(db) == [21])
            #expect(try db.query("SELECT count(*) FROM recipient_events").first?[0] == "300")
            #expect(try db.query("SELECT indexdef FROM pg_indexes WHERE tablename = 'recipient_events'").compactMap { $0[0] }
                    == [#"CREATE UNIQUE INDEX recipient_events_pkey ON public.recipient_events USING btree (batch_id, "position", provider, event_id)"#])
            let again = RecipientEvents.Row(batchID: batch, position: 7, provider: "resend", eventID: "e-7", type: "delivered", bounceClass: nil,
                                            occurredAt: "2026-01-01T00:00:00Z", receivedAt: "2026-01-01T00:00:00Z", reason: nil, code: nil, url: nil)
            #expect(try RecipientEvents.keep(db, [again]).isEmpty, "kept before the migration, kept once after it")
            #expect(try RecipientEvents.history(db, batchID: batch, position: 7).count == 1)

            // Migration 22 looks ids up through a hash index on the id alone; the ids a database holds are still found.
            // Migration 23 fills new pages to 40 %.
            #expect(try Migrator().migrate(db) == [22, 23])
            #expect(try db.query("SELECT reloptions::text FROM pg_class WHERE relname = 'recipients'").first?[0] == "{fillfactor=40}")
            #expect(try db.query("SELECT indexdef FROM pg_indexes WHERE tablename = 'provider_messages'").compactMap { $0[0] }
                    == ["CREATE INDEX provider_messages_by_id ON public.provider_messages USING hash (provider_message_id)"])
            #expect(Set(try Recipients.matching(db, messageIDs: ["m-1", "m-299"], providers: ["resend", "resend"], scopes: [config, config])
                .map(\.position)) == [1, 299])
            // Nothing keeps an id's row unique now: a recipient a webhook moved to `deferred` (a waiting status) whose
            // send is recorded again under the same id writes its row again, and a webhook naming the id finds it once.
            try db.execute("UPDATE recipients SET status = 'deferred' WHERE batch_id = '\(batch)' AND position = 2")
            #expect(try Recipients.write(db, batchID: batch, [.init(position: 2, status: .sent, providerMessageID: "m-2", attempts: 1)],
                                         uncancelling: false).count == 1)
            #expect(try db.query("SELECT count(*) FROM provider_messages WHERE provider_message_id = 'm-2'").first?[0] == "2")
            // A round with no id, no error and no fallback at all sends those columns as empty arrays, which unnest pads
            // with NULLs: each row still gets its own status and attempts, and an id it had is kept.
            try db.execute("UPDATE recipients SET status = 'deferred' WHERE batch_id = '\(batch)' AND position IN (5, 6)")
            let bare = try Recipients.write(db, batchID: batch, [.init(position: 5, status: .failed, attempts: 4), .init(position: 6, status: .sent, attempts: 2)],
                                            uncancelling: false)
            #expect(bare.sorted { $0.position < $1.position }.map { "\($0.position) \($0.status) \($0.providerMessageID ?? "-") \($0.lastError ?? "-")" }
                    == ["5 failed m-5 -", "6 sent - -"])
            #expect(try db.query("SELECT attempts FROM recipients WHERE batch_id = $1 AND position IN (5, 6) ORDER BY position", [batch])
                .compactMap { $0[0] } == ["4", "2"])
            let twice = try Recipients.matching(db, messageIDs: ["m-2", "m-4"], providers: ["resend", "resend"], scopes: [config, config])
            #expect(twice.map { [$0.index, $0.position] }.sorted { $0[0] < $1[0] } == [[0, 2], [1, 4]], "\(twice.map { ($0.index, $0.position) })")
            try db.execute("DELETE FROM batches WHERE id = '\(batch)'")
            #expect(try db.query("SELECT count(*) FROM provider_messages").first?[0] == "0", "a deleted batch takes both of an id's rows along")
        }
    }

    /// A user, a Resend send-config and a draft batch of theirs, written straight to the tables: the config's and the batch's ids.
    func draftBatch(_ db: PostgresConnection) throws -> (config: String, batch: String) {
        let user = try #require(try db.query("INSERT INTO users (email) VALUES ($1) RETURNING id", ["a@example.org"]).first?[0] ?? nil)
        let config = try #require(try db.query("""
            INSERT INTO send_configs (user_id, name, provider, mode, sealed_credentials, credentials_nonce)
            VALUES ($1, 'main', 'resend', 'byok', '\\x00', '\\x00') RETURNING id
            """, [user]).first?[0] ?? nil)
        let batch = try #require(try db.query(
            "INSERT INTO batches (user_id, send_config_id, name, payload) VALUES ($1, $2, 'b', '{}') RETURNING id", [user, config]).first?[0] ?? nil)
        return (config, batch)
    }

    @Test("Redis commands carry every argument byte for byte: empty, NUL, multi-byte, Foundation-made and long ones, alone and pipelined")
    func redisArguments() throws {
        let redis = try RedisConnection(url: try StackEnvironment.value("REDIS_URL"))
        let key = "test:\(UUID().uuidString):argv"
        defer { _ = try? redis.command(["DEL", key]) }
        let values = ["", "a\0b", "é🙂ü", NSString(string: "from Foundation ✓") as String, String(repeating: "xy", count: 40_000), "last"]
        let fields = values.indices.map { "f\($0)" }
        _ = try redis.command(["HSET", key] + zip(fields, values).flatMap { [$0, $1] })
        // Compared whole, printed short: the long value would fill the log.
        func short(_ texts: [String?]) -> String { "\(texts.map { $0.map { "\($0.utf8.count) bytes: \($0.prefix(12).debugDescription)" } })" }
        let read = try redis.command(["HMGET", key] + fields).array.map(\.string)
        #expect(read == values, "\(short(read))")
        let replies = try redis.pipeline(values.indices.map { ["HGET", key, fields[$0]] } + [["HSTRLEN", key, "f4"]])
        let piped = replies.dropLast().map(\.string)
        #expect(piped == values, "\(short(piped))")
        #expect(replies.last?.integer == 80_000)
    }

    @Test("a server that is not there is a connection error naming the URL without its password")
    func unreachable() {
        do {
            _ = try PostgresConnection(url: "postgres://user:hunter2@127.0.0.1:1/db?connect_timeout=2")
            Issue.record("connected to nothing")
        } catch {
            #expect(error.kind == .connection)
            #expect(error.message.contains("127.0.0.1:1") && !error.message.contains("hunter2"), "\(error.message)")
        }
    }

    @Test("Redis and NATS errors name the server without the URL's password")
    func unreachableRedisAndNATS() {
        #expect(throws: RedisError.self) { try RedisConnection(url: "redis://app:hunter2@127.0.0.1:1") }
        do { _ = try RedisConnection(url: "redis://app:hunter2@127.0.0.1:1") } catch {
            #expect(error.message.contains("127.0.0.1:1") && !error.message.contains("hunter2"), "\(error.message)")
        }
        do { _ = try NATSConnection(url: "nats://app:hunter2@127.0.0.1:1", timeoutMs: 500) } catch {
            #expect(!error.description.contains("hunter2"), "\(error.description)")
        }
        #expect(ConnectionURL.redacted("redis://app:p%40ss@h:6379/0") == "redis://app:***@h:6379/0")
        #expect(ConnectionURL.redacted("redis://h:6379/0?x=a@b") == "redis://h:6379/0?x=a@b", "an @ after the authority is no password")
    }

    @Test("A Redis that asks for a password gets the URL's with AUTH (user and password, or password alone); a wrong one is refused without being repeated")
    func redisAuth() throws {
        let port = try LoopbackPort.free()
        let folder = TestPaths.scratch.appendingPathComponent("redis-auth-\(port)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let server = Process()
        server.executableURL = URL(fileURLWithPath: "/usr/bin/redis-server")
        server.arguments = ["--port", String(port), "--bind", "127.0.0.1", "--requirepass", "s3cret pass", "--save", "", "--appendonly", "no",
                            "--dir", folder, "--user", "app", "on", ">app-pass", "~*", "&*", "+@all"]
        server.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        try server.run()
        // SIGKILL: this process blocks SIGTERM, and its children inherit that (the server keeps no data anyway).
        defer { kill(server.processIdentifier, SIGKILL); server.waitUntilExit() }
        try LoopbackPort.waitUntilListening(port, timeout: .seconds(5))
        // The password alone: the default user.
        let redis = try RedisConnection(url: "redis://:s3cret%20pass@127.0.0.1:\(port)")
        #expect(try redis.command(["PING"]).string == "PONG")
        #expect(try RedisConnection(url: "redis://app:app-pass@127.0.0.1:\(port)/1").command(["PING"]).string == "PONG", "user and password")
        do {
            _ = try RedisConnection(url: "redis://:wrong-pass@127.0.0.1:\(port)")
            Issue.record("a wrong password was accepted")
        } catch {
            #expect(error.message.contains("refused the credentials") && !error.message.contains("wrong-pass"), "\(error.message)")
        }
        do {
            _ = try RedisConnection(url: "redis://127.0.0.1:\(port)").command(["PING"])
            Issue.record("no password was accepted")
        } catch {
            #expect(error.message.contains("NOAUTH"), "\(error.message)")
        }
    }

    /// A pool of one connection, held by a task until `release` is yielded.
    static func heldPool(threads: NIOThreadPool, waitLimitMs: Int?) async
        -> (ConnectionPool<Int>, release: AsyncStream<Void>.Continuation, holder: Task<Void, any Error>) {
        let pool = ConnectionPool<Int>(capacity: 1, threads: threads, waitLimitMs: waitLimitMs, isHealthy: { _ in true }) { 1 }
        let release = AsyncStream<Void>.makeStream(), holding = AsyncStream<Void>.makeStream()
        let holder = Task {
            try await pool.withLease { _ in
                holding.continuation.yield()
                for await _ in release.stream { break }
            }
        }
        for await _ in holding.stream { break }
        return (pool, release.continuation, holder)
    }

    @Test("A pool with a wait limit refuses a caller who waited that long for a held connection, then serves the next once it is free")
    func poolWaitLimit() async throws {
        let threads = NIOThreadPool(numberOfThreads: 2)
        threads.start()
        let (pool, release, holder) = await Self.heldPool(threads: threads, waitLimitMs: 100)
        let started = ContinuousClock.now
        await #expect(throws: ConnectionPoolBusy.self) { try await pool.withConnection { $0 } }
        #expect(ContinuousClock.now - started >= .milliseconds(90))
        release.yield()
        try await holder.value
        #expect(try await pool.withConnection { $0 } == 1)
        try await threads.shutdownGracefully()
    }

    @Test("Callers marked ahead (a single message's) get the next free connection before those who queued earlier, in their own order; after four in a row, the longest-waiting other caller")
    func poolAheadOfTheLine() async throws {
        #expect(try await Self.served([("bulk1", false), ("bulk2", false), ("single1", true), ("bulk3", false), ("single2", true)])
                == ["single1", "single2", "bulk1", "bulk2", "bulk3"])
        #expect(try await Self.served([("bulk1", false)] + (1...6).map { ("single\($0)", true) })
                == ["single1", "single2", "single3", "single4", "bulk1", "single5", "single6"])
    }

    /// The order in which a held pool of one connection serves `callers`, queued in this order.
    static func served(_ callers: [(name: String, ahead: Bool)]) async throws -> [String] {
        let threads = NIOThreadPool(numberOfThreads: 2)
        threads.start()
        let (pool, release, holder) = await Self.heldPool(threads: threads, waitLimitMs: nil)
        final class Order: Sendable {
            let names = Mutex<[String]>([])
        }
        let order = Order()
        var waiting: [Task<Void, any Error>] = []
        for (name, ahead) in callers {
            waiting.append(Task {
                try await PoolPriority.$ahead.withValue(ahead) {
                    _ = try await pool.withConnection { _ in order.names.withLock { $0.append(name) } }
                }
            })
            // Queued in this order: each waiter is in the line before the next one comes.
            while pool.waiting < waiting.count { try await Task.sleep(for: .milliseconds(1)) }
        }
        release.yield()
        try await holder.value
        for task in waiting { try await task.value }
        try await threads.shutdownGracefully()
        return order.names.withLock { $0 }
    }

    @Test("A PostgreSQL connection given back inside a transaction (its ROLLBACK failed, say) is dropped, never lent again")
    func openTransactionNotPooled() async throws {
        let threads = NIOThreadPool(numberOfThreads: 1)
        threads.start()
        let url = try StackEnvironment.value("DATABASE_URL")
        let pool = ConnectionPool<PostgresConnection>(capacity: 1, threads: threads, isHealthy: { $0.isHealthy }) { try PostgresConnection(url: url) }
        let first = try await pool.withConnection { db in
            try db.execute("BEGIN")
            return try db.query("SELECT pg_backend_pid()")[0][0] ?? ""
        }
        let (second, state) = try await pool.withConnection { db in
            (try db.query("SELECT pg_backend_pid()")[0][0] ?? "", try db.query("SELECT count(*) FROM pg_stat_activity WHERE pid = pg_backend_pid() AND xact_start IS NOT NULL AND state = 'active'")[0][0] ?? "")
        }
        #expect(first != second, "the connection left in a transaction was lent again")
        #expect(state == "1", "only the query's own transaction is open")
        let idle = try await pool.withConnection { db in try db.query("SELECT pg_backend_pid()")[0][0] ?? "" }
        #expect(idle == second, "a connection given back idle is reused")
        try await threads.shutdownGracefully()
    }
}
