import ProviderModel

/// The files of the batches a sender is sending, kept in memory up to a budget: every chunk of a batch carries
/// the same files, and every message naming a file shares its one copy of the bytes. Files never change once
/// stored, so nothing here goes stale; the least recently used are dropped past the budget.
actor AttachmentCache {
    private let source: any AttachmentSource
    private let budgetBytes: Int
    private var files: [String: (file: Attachment, used: UInt64)] = [:]
    private var heldBytes = 0
    private var batches: [String: (ids: [String], used: UInt64)] = [:]
    private var tick: UInt64 = 0
    /// Loads under way, by batch: chunks of one batch arriving together read its files once.
    private var loading: [String: Task<(ids: [String], files: [Attachment]), any Error>] = [:]

    static let maxBatchesRemembered = 4_096

    init(source: any AttachmentSource, budgetBytes: Int = 64 << 20) {
        self.source = source
        self.budgetBytes = budgetBytes
    }

    /// The batch's files in order.
    func files(batchID: String) async throws -> [Attachment] {
        tick += 1
        if let known = batches[batchID] {
            batches[batchID]?.used = tick
            let found = known.ids.compactMap { files[$0]?.file }
            if found.count == known.ids.count {
                for id in known.ids { files[id]?.used = tick }
                return found
            }
        }
        if let running = loading[batchID] { return try await running.value.files }
        let cached = files.mapValues(\.file)
        let source = self.source
        let task = Task { () throws -> (ids: [String], files: [Attachment]) in
            let ids = try await source.attachmentIDs(batchID: batchID)
            let missing = ids.filter { cached[$0] == nil }
            let fetched = missing.isEmpty ? [:] : try await source.attachmentContents(ids: missing)
            return (ids, try ids.map { id throws -> Attachment in
                guard let file = cached[id] ?? fetched[id] else { throw AttachmentMissing(batchID: batchID, id: id) }
                return file
            })
        }
        loading[batchID] = task
        defer { loading[batchID] = nil }
        let loaded = try await task.value
        remember(batchID: batchID, loaded.files, ids: loaded.ids)
        return loaded.files
    }

    private func remember(batchID: String, _ loaded: [Attachment], ids: [String]) {
        tick += 1
        guard ids.count == loaded.count else { return }
        batches[batchID] = (ids, tick)
        for (id, file) in zip(ids, loaded) {
            if files[id] == nil { heldBytes += file.content.count }
            files[id] = (file, tick)
        }
        while heldBytes > budgetBytes, let oldest = files.min(by: { $0.value.used < $1.value.used }) {
            heldBytes -= oldest.value.file.content.count
            files[oldest.key] = nil
        }
        while batches.count > Self.maxBatchesRemembered, let oldest = batches.min(by: { $0.value.used < $1.value.used }) {
            batches[oldest.key] = nil
        }
    }
}

/// A batch names a file the store does not have: never expected (files are only hidden, never removed).
struct AttachmentMissing: Error, CustomStringConvertible {
    var batchID: String
    var id: String
    var description: String { "batch \(batchID) names attachment \(id), which is not stored" }
}
