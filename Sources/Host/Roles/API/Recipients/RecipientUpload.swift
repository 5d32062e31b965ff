import Analytics
import Domain
import HostCore
import Hummingbird
import Messaging
import NIOCore
import NIOPosix
import Persistence
import ProviderCrypto
import ProviderInstances
import ProviderModel
import Services

/// Reads one chunk of recipients for a batch (within `[api] body_timeout_ms`), checking every row and
/// writing it, as COPY text, to a spool file: a slow client holds no connection, no transaction and
/// little memory. `RecipientService` then stores the spool all or nothing; a malformed row stores nothing.
struct RecipientUpload {
    let maxRecipients: Int
    /// How long a client may take to send a body.
    let bodyTimeout: Duration

    /// Rows read, checked for `channel` and spooled: what `RecipientService` stores.
    struct Checked: Sendable {
        var spool: SpoolFile
        var rows: Int
        var channel: ProviderModel.Channel
        /// SHA-256 of the body as received (JSON bodies), what an `Idempotency-Key` is bound to.
        var fingerprint: [UInt8] = []

        /// The rows as the recipient service stores them.
        var spooled: RecipientService.Spooled {
            let spool = self.spool
            return RecipientService.Spooled(rows: rows, channel: channel, feed: { send in try spool.read(send) })
        }
    }

    /// A CSV body, parsed and checked as it arrives. Every line counts toward the limit, blank ones too.
    func checkCSV(_ body: RequestBody, channel: ProviderModel.Channel) async throws(APIError) -> Checked {
        let limit = maxRecipients
        return try await BodyDeadline.within(bodyTimeout) {
            var parser = CSVRecipientParser()
            var collector = try RecipientCollector(channel: channel, limit: limit, isCSV: true)
            for try await buffer in body {
                try buffer.withUnsafeReadableBytes { bytes throws(APIError) in
                    try parser.consume(bytes) { row throws(APIError) in try collector.add(row) }
                }
                guard parser.lines <= limit + 1 else {
                    throw APIError.tooLarge("an upload holds at most \(limit) lines of recipients after its header", field: "body")
                }
                try await collector.spill()
            }
            try parser.finish { row throws(APIError) in try collector.add(row) }
            return try await collector.finish()
        }
    }

    /// A JSON body as it arrives, kept in a spool file unread: at most `limit` bytes.
    func receive(_ body: RequestBody, limit: Int) async throws(APIError) -> SpoolFile {
        try await BodyDeadline.within(bodyTimeout) {
            let spool = try SpoolFile()
            for try await buffer in body {
                guard spool.length + buffer.readableBytes <= limit else {
                    throw APIError.tooLarge("the body is larger than \(limit) bytes", field: "body")
                }
                try await spool.append(buffer.readableBytesView)
            }
            return spool
        }
    }

    /// A received JSON body without its streamed `recipients` array (`null` in its place), for the ordinary parser.
    static func rest(_ body: SpoolFile) async throws(APIError) -> [UInt8] {
        try await blocking(body) {
            var scanner = JSONRecipientScanner(.member("recipients"))
            try body.read { bytes in try scanner.consume(bytes) { _, _ throws(APIError) in } }
            try scanner.finish()
            return scanner.rest
        }
    }

    /// The recipients of a received JSON body (the body itself, or its `recipients` member), each parsed
    /// alone and checked for `channel`.
    func checkJSON(_ body: SpoolFile, shape: JSONRecipientScanner.Shape, channel: ProviderModel.Channel) async throws(APIError) -> Checked {
        let limit = maxRecipients
        return try await Self.blocking(body) {
            var scanner = JSONRecipientScanner(shape)
            var collector = try RecipientCollector(channel: channel, limit: limit, isCSV: false)
            var hasher = SHA256Hasher()
            try body.read { bytes in
                hasher.update(bytes)
                try scanner.consume(bytes) { element, index throws(APIError) in
                    let value = try JSONFields.document(element, path: "recipients[\(index)]")
                    try collector.add(try JSONRecipient.row(value, index: index))
                }
                try collector.spillBlocking()
            }
            try scanner.finish()
            var checked = try collector.finishBlocking()
            checked.fingerprint = hasher.finish()
            return checked
        }
    }

    /// Parsing a spooled body reads a file and takes CPU: on NIO's pool, never the cooperative one. A body
    /// still in memory (a few hundred KiB at most) is parsed where it is, without waiting for that pool.
    private static func blocking<T: Sendable>(_ body: SpoolFile, _ work: @escaping @Sendable () throws -> T) async throws(APIError) -> T {
        do {
            if body.isInMemory { return try work() }
            return try await NIOThreadPool.singleton.runIfActive(work)
        } catch let error as APIError {
            throw error
        } catch {
            throw APIError.unavailable("the upload could not be read back (\(error)); retry shortly")
        }
    }

}

/// A recipient in a JSON upload: `"address"` alone, or `{"address", "variables"}`.
enum JSONRecipient {
    static func row(_ entry: JSONValue, index: Int) throws(APIError) -> RecipientRow {
        let path = "recipients[\(index)]"
        if case .string(let address) = entry { return RecipientRow(line: index + 1, address: address, variablesJSON: "{}") }
        let fields = try JSONFields(entry, path: path, allowed: ["address", "variables"])
        guard let address = try fields.string("address", maxLength: 320) else { throw APIError.invalid(path + ".address", "is required") }
        let variables = try fields.stringMap("variables") ?? [:]
        let json = JSONValue.object(variables.mapValues { .string($0) }).compactText
        return RecipientRow(line: index + 1, address: address, variablesJSON: json)
    }
}
