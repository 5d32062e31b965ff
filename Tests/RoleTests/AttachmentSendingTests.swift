import ProviderModel
@testable import Processor
@testable import Sender
import Synchronization
import Testing


/// How a batch with files is cut and how a sender reads its files: rules with fakes, no servers.
@Suite("Sending attachments")
struct AttachmentSendingTests {
    @Test("a chunk holds what one request takes, fewer when its files would pass 32 MiB, never none")
    func chunkSize() {
        #expect(BatchProcessor.chunkSize(maxBatch: 100, singleSendChunk: 50, attachmentBytes: 0) == 100)
        #expect(BatchProcessor.chunkSize(maxBatch: 1, singleSendChunk: 50, attachmentBytes: 0) == 50)
        #expect(BatchProcessor.chunkSize(maxBatch: 100, singleSendChunk: 50, attachmentBytes: 1 << 20) == 32)
        #expect(BatchProcessor.chunkSize(maxBatch: 1, singleSendChunk: 50, attachmentBytes: 10 << 20) == 3)
        #expect(BatchProcessor.chunkSize(maxBatch: 100, singleSendChunk: 50, attachmentBytes: 100 << 20) == 1)
        #expect(BatchProcessor.chunkSize(maxBatch: 10, singleSendChunk: 50, attachmentBytes: 1_000) == 10)
    }

    /// A store of files that counts its reads.
    final class CountingSource: AttachmentSource {
        let files: [String: ProviderModel.Attachment]
        let batches: [String: [String]]
        let reads = Mutex<(ids: Int, contents: Int, fetched: [String])>((0, 0, []))

        init(files: [String: ProviderModel.Attachment], batches: [String: [String]]) {
            self.files = files
            self.batches = batches
        }

        func attachmentIDs(batchID: String) async throws -> [String] {
            reads.withLock { $0.ids += 1 }
            try await Task.sleep(for: .milliseconds(20))
            return batches[batchID] ?? []
        }

        func attachmentContents(ids: [String]) async throws -> [String: ProviderModel.Attachment] {
            reads.withLock { $0.contents += 1; $0.fetched += ids }
            return files.filter { ids.contains($0.key) }
        }
    }

    static func file(_ name: String, size: Int) -> ProviderModel.Attachment {
        ProviderModel.Attachment(filename: name, content: AttachmentBytes(Array(repeating: 1, count: size)))
    }

    @Test("chunks of one batch arriving together read its files once; another batch naming a cached file reads only what it lacks")
    func readsOnce() async throws {
        let a = Self.file("a", size: 100), b = Self.file("b", size: 100)
        let source = CountingSource(files: ["A": a, "B": b], batches: ["one": ["A", "B"], "two": ["B"], "three": ["A", "B"]])
        let cache = AttachmentCache(source: source)
        let results = await withTaskGroup(of: [ProviderModel.Attachment].self) { group in
            for _ in 0..<20 { group.addTask { (try? await cache.files(batchID: "one")) ?? [] } }
            return await group.reduce(into: []) { $0.append($1) }
        }
        #expect(results.allSatisfy { $0 == [a, b] && $0[0].content === results[0][0].content })
        #expect(source.reads.withLock { ($0.ids, $0.contents) } == (1, 1), "20 chunks, one read")
        #expect(try await cache.files(batchID: "two") == [b])
        #expect(try await cache.files(batchID: "three") == [a, b])
        #expect(source.reads.withLock { $0.fetched } == ["A", "B"], "no file's bytes are read twice")
    }

    @Test("past its budget the least recently used files go, and come back on the next read; a missing file is an error")
    func budget() async throws {
        let source = CountingSource(files: ["A": Self.file("a", size: 600), "B": Self.file("b", size: 600)],
                                    batches: ["one": ["A"], "two": ["B"], "lost": ["A", "Z"]])
        let cache = AttachmentCache(source: source, budgetBytes: 1_000)
        _ = try await cache.files(batchID: "one")
        _ = try await cache.files(batchID: "two")
        _ = try await cache.files(batchID: "one")
        #expect(source.reads.withLock { $0.fetched } == ["A", "B", "A"], "A went when B came")
        await #expect(throws: AttachmentMissing.self) { try await cache.files(batchID: "lost") }
    }

    @Test("emails with files wait for their share of the sender's memory, first come first served, and never ask for more than all of it")
    func fileBudget() async throws {
        let budget = FileSendBudget(bytes: 100)
        #expect(await budget.share(fileBytes: 10, messages: 2) == 60)
        #expect(await budget.share(fileBytes: 10 << 20, messages: 300) == 100)
        await budget.acquire(60)
        final class Order: Sendable { let list = Mutex<[Int]>([]) }
        let order = Order()
        let second = Task { await budget.acquire(60); order.list.withLock { $0.append(2) } }
        try await Task.sleep(for: .milliseconds(50))
        let third = Task { await budget.acquire(30); order.list.withLock { $0.append(3) } }
        try await Task.sleep(for: .milliseconds(50))
        #expect(order.list.withLock { $0 }.isEmpty, "60 + 60 > 100: the second waits, and the third behind it though 30 would fit")
        await budget.release(60)
        await second.value
        await third.value
        #expect(order.list.withLock { $0 } == [2, 3])
    }
}
