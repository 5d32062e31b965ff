#if canImport(Glibc)
import Glibc
#endif
import BatchSenderABI
import ProviderModel

/// Memory for the C views of one call in which a plugin's mistakes fault at
/// once: every string, list and struct ends exactly where a PROT_NONE page
/// begins, and once `seal()` has run everything is read-only. A plugin that
/// writes into the host's data, or reads one byte past a body, dies with
/// SIGSEGV in the check that made the call; valgrind is not needed to see it.
final class GuardedMemory {
    private var regions: [(base: UnsafeMutableRawPointer, length: Int, data: Int)] = []
    private let page = Int(sysconf(Int32(_SC_PAGESIZE)))

    deinit {
        for region in regions { munmap(region.base, region.length) }
    }

    /// Room for `bytes` bytes that end at a guard page.
    private func place(_ bytes: Int) -> UnsafeMutableRawPointer {
        let data = (bytes + page - 1) / page * page
        let length = data + page
        guard let base = mmap(nil, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), base != MAP_FAILED else {
            fatalError("mmap of \(length) bytes failed: the suite cannot lay out guarded inputs")
        }
        mprotect(base + data, page, PROT_NONE)
        regions.append((base, length, data))
        return base + (data - bytes)
    }

    /// Makes every placed byte read-only; call it after the views are built, before the plugin runs.
    func seal() {
        for region in regions { mprotect(region.base, region.data, PROT_READ) }
    }

    func values<T>(_ values: [T]) -> UnsafePointer<T>? {
        guard !values.isEmpty else { return nil }
        let pointer = place(MemoryLayout<T>.stride * values.count).bindMemory(to: T.self, capacity: values.count)
        values.withUnsafeBufferPointer { pointer.initialize(from: $0.baseAddress!, count: $0.count) }
        return UnsafePointer(pointer)
    }

    func value<T>(_ value: T) -> UnsafePointer<T> { values([value])! }

    func bytes(_ bytes: [UInt8]) -> bsp_bytes {
        bsp_bytes(ptr: values(bytes), len: bytes.count)
    }

    func str(_ string: String) -> bsp_str {
        str(bytes: Array(string.utf8))
    }

    /// A view of raw bytes: NUL, invalid UTF-8, anything a hostile request can carry.
    func str(bytes: [UInt8]) -> bsp_str {
        guard let pointer = values(bytes) else { return bsp_str(ptr: nil, len: 0) }
        return bsp_str(ptr: UnsafeRawPointer(pointer).assumingMemoryBound(to: CChar.self), len: bytes.count)
    }

    func list(_ strings: [String]) -> bsp_str_list {
        bsp_str_list(items: values(strings.map(str)), count: strings.count)
    }

    func pairs(_ pairs: [KeyValue]) -> bsp_pair_list {
        bsp_pair_list(items: values(pairs.map { bsp_pair(name: str($0.name), value: str($0.value)) }), count: pairs.count)
    }

    func message(_ message: OutboundMessage) -> UnsafePointer<bsp_message> {
        var c = bsp_message()
        c.struct_size = bsp_message.currentSize
        c.channel = message.channel.bit
        c.id = str(message.id)
        c.idempotency_key = str(message.idempotencyKey)
        c.from = str(message.from)
        c.to = list(message.to)
        c.cc = list(message.cc)
        c.bcc = list(message.bcc)
        c.reply_to = list(message.replyTo)
        c.subject = str(message.subject)
        c.html = str(message.html)
        c.text = str(message.text)
        c.headers = pairs(message.headers)
        c.tags = pairs(message.tags)
        c.metadata = pairs(message.metadata)
        c.messaging_profile = str(message.messagingProfile)
        c.payload = str(message.payload)
        return value(c)
    }

    func messages(_ messages: [OutboundMessage]) -> UnsafePointer<UnsafePointer<bsp_message>?> {
        values(messages.map { Optional(message($0)) })!
    }

    func response(_ result: HTTPResult) -> UnsafePointer<bsp_http_response> {
        var c = bsp_http_response()
        c.struct_size = bsp_http_response.currentSize
        c.transport = switch result.transportFailure {
        case nil: BSP_TRANSPORT_OK
        case .timeout: BSP_TRANSPORT_TIMEOUT
        case .connect: BSP_TRANSPORT_CONNECT
        case .tls: BSP_TRANSPORT_TLS
        case .io: BSP_TRANSPORT_IO
        case .other: BSP_TRANSPORT_OTHER
        }
        c.transport_message = str(result.transportMessage)
        c.status = Int32(clamping: result.status)
        c.headers = pairs(result.headers)
        c.body = bytes(result.body)
        return value(c)
    }

    func request(_ webhook: InboundWebhook) -> UnsafePointer<bsp_inbound_request> {
        request(webhook, rawHeaders: webhook.headers.map { (Array($0.name.utf8), Array($0.value.utf8)) })
    }

    /// A webhook whose header values are raw bytes (a Swift String cannot hold invalid UTF-8).
    func request(_ webhook: InboundWebhook, rawHeaders: [(name: [UInt8], value: [UInt8])]) -> UnsafePointer<bsp_inbound_request> {
        var c = bsp_inbound_request()
        c.struct_size = bsp_inbound_request.currentSize
        c.method = str(webhook.method)
        c.path = str(webhook.path)
        c.headers = bsp_pair_list(items: values(rawHeaders.map { bsp_pair(name: str(bytes: $0.name), value: str(bytes: $0.value)) }),
                                  count: rawHeaders.count)
        c.body = bytes(webhook.body)
        return value(c)
    }

    /// Every placed byte, region by region, to compare after a call (`changes(since:)`).
    func snapshot() -> [[UInt8]] {
        regions.map { Array(UnsafeRawBufferPointer(start: $0.base, count: $0.data)) }
    }

    /// What the plugin changed in the bytes it borrowed since `before`, shown around the first
    /// changed byte; nil when it changed nothing.
    func changes(since before: [[UInt8]]) -> String? {
        for (old, new) in zip(before, snapshot()) where old != new {
            let first = old.indices.first { old[$0] != new[$0] } ?? 0
            func show(_ bytes: [UInt8]) -> String {
                let window = bytes[max(0, first - 24)..<min(bytes.count, first + 24)].drop { $0 == 0 }
                let shown: [String] = window.map { byte in
                    byte >= 0x20 && byte < 0x7f ? String(UnicodeScalar(byte)) : "\\x" + String(byte, radix: 16)
                }
                return "\"" + shown.joined() + "\""
            }
            return "\(show(old)) became \(show(new))"
        }
        return nil
    }
}
