import CHiredis
import Domain
import Glibc
import HostCore
#if canImport(Glibc)
#endif

/// One Redis connection through hiredis; the only code that touches hiredis.
/// Its calls block, so it belongs on a storage thread, never on Swift's
/// cooperative pool. Not thread-safe: one connection, one thread at a time.
public final class RedisConnection {
    private let context: UnsafeMutablePointer<redisContext>

    /// `url`: `redis://[[user]:password@]host:port[/db]`; a password is sent with AUTH before anything else.
    /// Connect and command timeouts are `timeoutMs`.
    public init(url: String, timeoutMs: Int = 2_000) throws(RedisError) {
        let address = try RedisAddress(url: url)
        let timeout = timeval(tv_sec: timeoutMs / 1_000, tv_usec: (timeoutMs % 1_000) * 1_000)
        guard let context = redisConnectWithTimeout(address.host, Int32(address.port), timeout) else {
            throw RedisError(.connection, "hiredis could not allocate a connection")
        }
        guard context.pointee.err == 0 else {
            let message = Self.errorText(context)
            redisFree(context)
            throw RedisError(.connection, "cannot connect to \(ConnectionURL.redacted(url)): \(message)")
        }
        redisSetTimeout(context, timeout)
        self.context = context
        if let password = address.password {
            do { _ = try command(["AUTH"] + (address.user.map { [$0] } ?? []) + [password]) } catch {
                throw RedisError(.connection, "Redis at \(address.host):\(address.port) refused the credentials in REDIS_URL: \(error.message)")
            }
        }
        if address.database != 0 {
            _ = try command(["SELECT", String(address.database)])
        }
    }

    deinit {
        redisFree(context)
    }

    /// Whether the connection can still be used (no I/O or protocol error so far).
    public var isHealthy: Bool { context.pointee.err == 0 }

    /// Sends one command (each argument binary-safe) and returns its reply.
    /// A Redis error reply is thrown as `.reply`.
    public func command(_ arguments: [String]) throws(RedisError) -> RedisReply {
        let raw = Self.withArgv(arguments) { count, pointers, lengths in
            redisCommandArgv(context, count, pointers, lengths)
        }
        guard let reply = raw?.assumingMemoryBound(to: redisReply.self) else {
            throw RedisError(.connection, "redis command \(arguments.first ?? "") failed: \(Self.errorText(context))")
        }
        defer { freeReplyObject(raw) }
        let value = Self.convert(reply)
        if case .error(let message) = value { throw RedisError(.reply, message) }
        return value
    }

    /// Sends every command before reading any reply (one round trip for all),
    /// and returns the replies in order; an error reply stays in its slot.
    public func pipeline(_ commands: [[String]]) throws(RedisError) -> [RedisReply] {
        for arguments in commands {
            let status = Self.withArgv(arguments) { count, pointers, lengths in
                redisAppendCommandArgv(context, count, pointers, lengths)
            }
            guard status == REDIS_OK else {
                throw RedisError(.connection, "redis pipeline could not queue \(arguments.first ?? ""): \(Self.errorText(context))")
            }
        }
        var replies: [RedisReply] = []
        replies.reserveCapacity(commands.count)
        for _ in commands {
            var raw: UnsafeMutableRawPointer?
            guard redisGetReply(context, &raw) == REDIS_OK, let raw else {
                throw RedisError(.connection, "redis pipeline broke: \(Self.errorText(context))")
            }
            replies.append(Self.convert(raw.assumingMemoryBound(to: redisReply.self)))
            freeReplyObject(raw)
        }
        return replies
    }

    /// Runs a Lua script atomically (EVALSHA, loading it once per connection).
    public func evaluate(_ script: RedisScript, keys: [String], arguments: [String]) throws(RedisError) -> RedisReply {
        let tail = [String(keys.count)] + keys + arguments
        do {
            return try command(["EVALSHA", try script.sha1(loadingWith: self)] + tail)
        } catch where error.kind == .reply && error.message.hasPrefix("NOSCRIPT") {
            return try command(["EVALSHA", try script.sha1(loadingWith: self, reload: true)] + tail)
        }
    }

    /// Runs the script once per call in one pipelined round trip; replies in order.
    public func evaluateAll(_ script: RedisScript, calls: [(keys: [String], arguments: [String])]) throws(RedisError) -> [RedisReply] {
        guard !calls.isEmpty else { return [] }
        func commands(_ sha: String) -> [[String]] {
            calls.map { ["EVALSHA", sha, String($0.keys.count)] + $0.keys + $0.arguments }
        }
        var replies = try pipeline(commands(try script.sha1(loadingWith: self)))
        if replies.contains(where: { if case .error(let text) = $0 { text.hasPrefix("NOSCRIPT") } else { false } }) {
            replies = try pipeline(commands(try script.sha1(loadingWith: self, reload: true)))
        }
        if let failure = replies.first(where: { if case .error = $0 { true } else { false } }), case .error(let text) = failure {
            throw RedisError(.reply, text)
        }
        return replies
    }

    /// Every argument's bytes in one buffer, with one array of addresses and one of lengths: a chunk's script
    /// call names hundreds of recipients, and two copies per argument were 5 % of the webhook processor's CPU.
    private static func withArgv<R>(_ arguments: [String], _ body: (Int32, UnsafeMutablePointer<UnsafePointer<CChar>?>, UnsafePointer<Int>) -> R) -> R {
        let total = arguments.reduce(0) { $0 + $1.utf8.count }
        let bytes = UnsafeMutableRawBufferPointer.allocate(byteCount: max(total, 1), alignment: 1)
        defer { bytes.deallocate() }
        var pointers = [UnsafePointer<CChar>?](repeating: nil, count: arguments.count)
        var lengths = [Int](repeating: 0, count: arguments.count)
        var offset = 0
        for (index, argument) in arguments.enumerated() {
            let length = argument.utf8.count
            let target = UnsafeMutableRawBufferPointer(rebasing: bytes[offset..<offset + length])
            var text = argument
            text.withUTF8 { target.copyMemory(from: UnsafeRawBufferPointer($0)) }
            pointers[index] = UnsafePointer(bytes.baseAddress!.advanced(by: offset).assumingMemoryBound(to: CChar.self))
            lengths[index] = length
            offset += length
        }
        return pointers.withUnsafeMutableBufferPointer { pointerBuffer in
            lengths.withUnsafeBufferPointer { body(Int32(arguments.count), pointerBuffer.baseAddress!, $0.baseAddress!) }
        }
    }

    private static func convert(_ reply: UnsafeMutablePointer<redisReply>) -> RedisReply {
        let r = reply.pointee
        switch r.type {
        case REDIS_REPLY_STRING: return .string(text(r.str, r.len))
        case REDIS_REPLY_STATUS: return .status(text(r.str, r.len))
        case REDIS_REPLY_ERROR: return .error(text(r.str, r.len))
        case REDIS_REPLY_INTEGER: return .integer(Int(r.integer))
        case REDIS_REPLY_ARRAY:
            return .array((0..<r.elements).map { index in r.element[index].map(convert) ?? .null })
        default: return .null
        }
    }

    private static func text(_ pointer: UnsafeMutablePointer<CChar>?, _ length: Int) -> String {
        guard let pointer else { return "" }
        return pointer.withMemoryRebound(to: UInt8.self, capacity: length) {
            String(decoding: UnsafeBufferPointer(start: $0, count: length), as: UTF8.self)
        }
    }

    private static func errorText(_ context: UnsafeMutablePointer<redisContext>) -> String {
        withUnsafeBytes(of: context.pointee.errstr) { raw in
            let bytes = raw.bindMemory(to: UInt8.self)
            return String(decoding: bytes.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
    }
}

/// A reply, as Redis's protocol types it.
public enum RedisReply: Sendable, Equatable {
    case string(String)
    case status(String)
    case error(String)
    case integer(Int)
    case array([RedisReply])
    case null

    public var integer: Int? { if case .integer(let value) = self { value } else { nil } }
    public var string: String? {
        switch self {
        case .string(let value), .status(let value): value
        case .integer(let value): String(value)
        default: nil
        }
    }
    public var array: [RedisReply] { if case .array(let values) = self { values } else { [] } }
}

/// What went wrong talking to Redis.
public struct RedisError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// Unreachable, timed out or the connection broke: check REDIS_URL and `scripts/stack status`.
        case connection
        /// The URL is not `redis://host:port[/db]`.
        case url
        /// Redis answered the command with an error.
        case reply
    }

    public var kind: Kind
    public var message: String

    init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}

/// `redis://[[user]:password@]host[:port][/db]`, checked.
struct RedisAddress {
    var host: String
    var port: Int
    var database: Int
    var user: String?
    var password: String?

    init(url: String) throws(RedisError) {
        guard url.hasPrefix("redis://") else {
            throw RedisError(.url, "REDIS_URL must start with redis://, not \(ConnectionURL.redacted(String(url.prefix(40))))")
        }
        (user, password) = ConnectionURL.credentials(url)
        var rest = Substring(url.dropFirst("redis://".count))
        database = 0
        if let slash = rest.firstIndex(of: "/") {
            let path = rest[rest.index(after: slash)...]
            guard path.isEmpty || Int(path) != nil else { throw RedisError(.url, "REDIS_URL: the database must be a number, not \(path)") }
            database = Int(path) ?? 0
            rest = rest[..<slash]
        }
        if let at = rest.lastIndex(of: "@") { rest = rest[rest.index(after: at)...] }
        if let colon = rest.lastIndex(of: ":") {
            guard let port = Int(rest[rest.index(after: colon)...]), (1...65_535).contains(port) else {
                throw RedisError(.url, "REDIS_URL: the port must be 1–65535 in \(ConnectionURL.redacted(url))")
            }
            self.port = port
            host = String(rest[..<colon])
        } else {
            port = 6379
            host = String(rest)
        }
        guard !host.isEmpty else { throw RedisError(.url, "REDIS_URL has no host: \(ConnectionURL.redacted(url))") }
    }
}
