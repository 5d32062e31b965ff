import Foundation
import HostCore

/// Blocks of events waiting on disk while ClickHouse is away: one file per block, named by its id,
/// written to a temporary name and renamed, so a crash leaves either a whole block or none.
/// Blocking file calls: callers run it on the storage threads.
struct EventSpill: Sendable {
    let directory: String

    struct Stored: Sendable {
        var path: String
        var rows: Int
    }

    @discardableResult
    func save(id: String, body: [UInt8], rows: Int = 0) throws -> Stored {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let name = "\(id).jsonl"
        let temporary = "\(directory)/.\(name).tmp", final = "\(directory)/\(name)"
        guard FileManager.default.createFile(atPath: temporary, contents: Data(body)) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: temporary])
        }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: temporary))
        try handle.synchronize()
        try handle.close()
        try FileManager.default.moveItem(atPath: temporary, toPath: final)
        return Stored(path: final, rows: rows)
    }

    /// Every stored block, oldest first; unfinished temporary files are left out (their block is still in memory or lost with a crash
    /// before it was whole, which the rename makes impossible to mistake for a whole block).
    func list() -> [Stored] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return [] }
        var stored: [(Date, Stored)] = []
        for name in names where name.hasSuffix(".jsonl") && !name.hasPrefix(".") {
            let path = "\(directory)/\(name)"
            let modified = (try? FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as? Date) ?? Date.distantPast
            stored.append((modified, Stored(path: path, rows: rows(in: path))))
        }
        return stored.sorted { $0.0 < $1.0 }.map(\.1)
    }

    func read(_ block: Stored) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: block.path) else {
            throw CocoaError(.fileReadNoSuchFile, userInfo: [NSFilePathErrorKey: block.path])
        }
        return [UInt8](data)
    }

    func remove(_ block: Stored) {
        try? FileManager.default.removeItem(atPath: block.path)
    }

    private func rows(in path: String) -> Int {
        guard let data = FileManager.default.contents(atPath: path) else { return 0 }
        return data.reduce(0) { $1 == UInt8(ascii: "\n") ? $0 + 1 : $0 }
    }
}
