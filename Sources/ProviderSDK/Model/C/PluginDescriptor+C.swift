import BatchSenderABI

extension ConfigValueType {
    public init?(code: Int32) {
        switch code {
        case BSP_CONFIG_STRING: self = .string
        case BSP_CONFIG_URL: self = .url
        case BSP_CONFIG_BOOL: self = .bool
        case BSP_CONFIG_STRING_LIST: self = .stringList
        case BSP_CONFIG_STRING_MAP: self = .stringMap
        default: return nil
        }
    }

    public var code: Int32 {
        switch self {
        case .string: BSP_CONFIG_STRING
        case .url: BSP_CONFIG_URL
        case .bool: BSP_CONFIG_BOOL
        case .stringList: BSP_CONFIG_STRING_LIST
        case .stringMap: BSP_CONFIG_STRING_MAP
        }
    }
}

extension SendRate.Unit {
    public init?(code: Int32) {
        switch code {
        case BSP_RATE_MESSAGES_PER_SECOND: self = .messagesPerSecond
        case BSP_RATE_REQUESTS_PER_SECOND: self = .requestsPerSecond
        default: return nil
        }
    }

    public var code: Int32 {
        switch self {
        case .messagesPerSecond: BSP_RATE_MESSAGES_PER_SECOND
        case .requestsPerSecond: BSP_RATE_REQUESTS_PER_SECOND
        }
    }
}

/// Why a descriptor a plugin returned cannot be used.
public struct DescriptorProblem: Error, Sendable, CustomStringConvertible {
    public var description: String
}

extension PluginDescriptor {
    /// Reads and checks a plugin's descriptor: every string present, an id of
    /// the documented form, at least one channel, max batch of at least 1,
    /// config keys of known types. A rate reads as none when the descriptor ends before it (a 1.0
    /// plugin) or names a unit this ABI does not know (a later minor's: the plugin still loads,
    /// and the host uses its own default; the conformance suite reports it, `rateProblem`).
    public init(reading pointer: UnsafePointer<bsp_descriptor>?) throws(DescriptorProblem) {
        guard let pointer else { throw DescriptorProblem(description: "the plugin table has no descriptor") }
        let c = bsp_descriptor.read(from: pointer)
        func text(_ value: UnsafePointer<CChar>?, _ field: String) throws(DescriptorProblem) -> String {
            guard let value else { throw DescriptorProblem(description: "descriptor.\(field) is NULL") }
            return String(cString: value)
        }
        let id = try text(c.id, "id")
        guard PluginDescriptor.isValidId(id) else {
            throw DescriptorProblem(description: "descriptor.id \"\(id)\" is not of the form [a-z][a-z0-9_-]{0,63}")
        }
        let channels = Channel.set(from: c.channels)
        guard !channels.isEmpty else { throw DescriptorProblem(description: "descriptor.channels declares no channel") }
        guard c.max_batch >= 1 else { throw DescriptorProblem(description: "descriptor.max_batch is 0; it must be at least 1") }
        var keys: [ConfigKey] = []
        if c.config_key_count > 0 {
            guard let base = c.config_keys else { throw DescriptorProblem(description: "descriptor.config_keys is NULL") }
            for (index, key) in UnsafeBufferPointer(start: base, count: c.config_key_count).enumerated() {
                let name = try text(key.name, "config_keys[\(index)].name")
                guard let type = ConfigValueType(code: key.type) else {
                    throw DescriptorProblem(description: "descriptor.config_keys[\(index)] (\(name)) has unknown type \(key.type)")
                }
                keys.append(ConfigKey(
                    name, type, required: key.flags & BSP_CONFIG_REQUIRED != 0, secret: key.flags & BSP_CONFIG_SECRET != 0,
                    description: key.description.map { String(cString: $0) } ?? "",
                    default: key.default_value.map { String(cString: $0) }))
            }
        }
        // A uint32_t always fits SendRate.range on a 64-bit Int; 0 is "none".
        let rate = SendRate.Unit(code: c.rate_unit).flatMap { SendRate(Int(c.default_rate), $0) }
        var interfaces: [String] = []
        if c.interface_count > 0, let base = c.interfaces {
            interfaces = UnsafeBufferPointer(start: base, count: c.interface_count).compactMap { $0.map { String(cString: $0) } }
        }
        self.init(id: id, name: try text(c.name, "name"), version: try text(c.version, "version"),
                  description: c.description.map { String(cString: $0) } ?? "", channels: channels,
                  maxBatch: Int(c.max_batch), configKeys: keys, interfaces: interfaces, defaultRate: rate,
                  sendsAttachments: c.features & BSP_FEATURE_ATTACHMENTS != 0)
    }

    /// What is wrong with the rate a C descriptor declares, for a person; nil when it is none (0)
    /// or a rate of a unit this ABI defines.
    public static func rateProblem(in c: bsp_descriptor) -> String? {
        guard c.default_rate > 0, SendRate.Unit(code: c.rate_unit) == nil else { return nil }
        return "default_rate \(c.default_rate) with rate_unit \(c.rate_unit), which is not one of BSP_RATE_*"
    }

    /// A C copy of this descriptor, living as long as `arena`.
    public func cDescriptor(in arena: CArena) -> UnsafePointer<bsp_descriptor> {
        var c = bsp_descriptor()
        c.struct_size = bsp_descriptor.currentSize
        c.id = arena.cString(id)
        c.name = arena.cString(name)
        c.version = arena.cString(version)
        c.description = arena.cString(description)
        c.channels = Channel.bits(of: channels)
        c.max_batch = UInt32(clamping: maxBatch)
        let keys = arena.allocate(bsp_config_key.self, count: configKeys.count)
        for (index, key) in configKeys.enumerated() {
            let flags = (key.required ? BSP_CONFIG_REQUIRED : 0) | (key.secret ? BSP_CONFIG_SECRET : 0)
            (keys + index).initialize(to: bsp_config_key(
                name: arena.cString(key.name), type: key.type.code, flags: flags,
                description: arena.cString(key.description), default_value: key.defaultValue.map(arena.cString)))
        }
        c.config_keys = UnsafePointer(keys)
        c.config_key_count = configKeys.count
        let ids = arena.allocate(UnsafePointer<CChar>?.self, count: interfaces.count)
        for (index, interface) in interfaces.enumerated() { (ids + index).initialize(to: arena.cString(interface)) }
        c.interfaces = UnsafePointer(ids)
        c.interface_count = interfaces.count
        c.default_rate = defaultRate.map { UInt32(clamping: $0.perSecond) } ?? 0
        c.rate_unit = defaultRate?.unit.code ?? 0
        c.features = sendsAttachments ? BSP_FEATURE_ATTACHMENTS : 0
        return UnsafePointer(arena.store(c))
    }
}
