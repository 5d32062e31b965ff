import ProviderModel
import Services

/// Checks each recipient of an upload for the batch's channel as it is read and keeps it, as COPY text,
/// in a spool: by the time a database connection is taken, every row is known good and counted.
struct RecipientCollector {
    let channel: Channel
    let limit: Int
    let isCSV: Bool
    let spool: SpoolFile
    private var encoder = CopyRowEncoder(capacity: SpoolFile.pieceBytes + 4_096)
    private(set) var rows = 0

    init(channel: Channel, limit: Int, isCSV: Bool) throws(APIError) {
        self.channel = channel
        self.limit = limit
        self.isCSV = isCSV
        spool = try SpoolFile()
    }

    mutating func add(_ row: RecipientRow) throws(APIError) {
        switch RecipientAddress.normalize(row.address, channel: channel) {
        case .success(let address):
            var row = row
            row.address = address
            encoder.append(row)
        case .failure(let problem):
            let (field, place) = isCSV ? ("line \(row.line)", "CSV line \(row.line)") : ("recipients[\(row.line - 1)].address", "recipient \(row.line)")
            throw APIError.invalid(field, "\(place): address \(problem.reason); nothing in this upload was stored")
        }
        rows += 1
        guard rows <= limit else { throw APIError.tooLarge("an upload holds at most \(limit) recipients", field: "body") }
    }

    /// Moves the encoded rows to the spool.
    mutating func spill() async throws(APIError) {
        guard encoder.bytes.count >= SpoolFile.pieceBytes else { return }
        try await spool.append(encoder.bytes)
        encoder.removeAll()
    }

    mutating func spillBlocking() throws(APIError) {
        guard encoder.bytes.count >= SpoolFile.pieceBytes else { return }
        try spool.appendBlocking(encoder.bytes)
        encoder.removeAll()
    }

    /// What `RecipientUpload.commit` stores.
    mutating func finish() async throws(APIError) -> RecipientUpload.Checked {
        try await spool.append(encoder.bytes)
        encoder.removeAll()
        return RecipientUpload.Checked(spool: spool, rows: rows, channel: channel)
    }

    mutating func finishBlocking() throws(APIError) -> RecipientUpload.Checked {
        try spool.appendBlocking(encoder.bytes)
        encoder.removeAll()
        return RecipientUpload.Checked(spool: spool, rows: rows, channel: channel)
    }
}
