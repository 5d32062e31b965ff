import BatchSenderABI

/// A C table that begins with `uint32_t struct_size` and only grows at the end.
public protocol GrowableTable {
    init()
}

extension GrowableTable {
    /// Reads a table the other side wrote, whose size may differ from ours:
    /// fields beyond its `struct_size` read as zero (absent), fields we do not
    /// know are ignored. A size smaller than the size field itself reads as empty.
    @inlinable
    public static func read(from pointer: UnsafeRawPointer) -> Self {
        var value = Self()
        let declared = Int(pointer.loadUnaligned(as: UInt32.self))
        let count = min(declared, MemoryLayout<Self>.size)
        guard count >= MemoryLayout<UInt32>.size else { return value }
        withUnsafeMutableBytes(of: &value) { $0.copyMemory(from: UnsafeRawBufferPointer(start: pointer, count: count)) }
        return value
    }

    /// `sizeof` as this side knows it, for the struct_size field.
    @inlinable
    public static var currentSize: UInt32 { UInt32(MemoryLayout<Self>.size) }
}

extension bsp_message: GrowableTable {}
extension bsp_http_request: GrowableTable {}
extension bsp_http_response: GrowableTable {}
extension bsp_inbound_request: GrowableTable {}
extension bsp_outcome: GrowableTable {}
extension bsp_event: GrowableTable {}
extension bsp_descriptor: GrowableTable {}
extension bsp_config: GrowableTable {}
extension bsp_plugin: GrowableTable {}
extension bsp_sender_v1: GrowableTable {}
extension bsp_webhook_v1: GrowableTable {}
extension bsp_host: GrowableTable {}
extension bsp_call: GrowableTable {}
