import CNats
import Domain
import HostCore

/// One NATS connection through libnats; the only code that touches libnats.
/// libnats runs its own I/O threads and its calls are thread-safe; the ones
/// here block (up to their timeout), so call them from a storage thread.
public final class NATSConnection: @unchecked Sendable {
    private let connection: OpaquePointer

    /// `url`: NATS_URL, one `nats://host:port` or a comma-separated list. Fails after `timeoutMs` when nothing answers.
    public init(url: String, timeoutMs: Int64 = 2_000) throws(NATSError) {
        var options: OpaquePointer?
        guard natsOptions_Create(&options) == NATS_OK, let options else { throw NATSError("libnats could not allocate options") }
        defer { natsOptions_Destroy(options) }
        try NATSServers.apply(url, to: options)
        natsOptions_SetTimeout(options, timeoutMs)
        var connection: OpaquePointer?
        let status = natsConnection_Connect(&connection, options)
        guard status == NATS_OK, let connection else {
            throw NATSError("cannot connect to \(NATSServers.redacted(url)): \(String(cString: natsStatus_GetText(status)))")
        }
        self.connection = connection
    }

    deinit {
        natsConnection_Destroy(connection)
    }

    /// A round trip to the server (PING/PONG): proves it is reachable now.
    public func ping(timeoutMs: Int64 = 1_000) throws(NATSError) {
        let status = natsConnection_FlushTimeout(connection, timeoutMs)
        guard status == NATS_OK else { throw NATSError("NATS did not answer a ping: \(String(cString: natsStatus_GetText(status)))") }
    }
}

/// What went wrong talking to NATS: check NATS_URL and `scripts/stack status`.
public struct NATSError: Error, Sendable, CustomStringConvertible {
    public var message: String
    init(_ message: String) { self.message = message }
    public var description: String { message }
}
