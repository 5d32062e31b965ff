import Foundation
import HostCore
import Logging
import Messaging
import SenderAPI
import Services

/// What the operators' commands (`dlq`, `webhooks`) open: the servers' connections, with no plugin and no
/// role, and the dead-letter service over them. Built here, with the processes', so that a command only
/// parses its arguments.
public enum OperatorResources {
    public static func open(configPath: String?) throws -> ProcessResources {
        let environment: HostEnvironment
        do { environment = try HostEnvironment(ProcessInfo.processInfo.environment) } catch { throw CommandFailure(error.description) }
        var config = HostConfig()
        if let configPath {
            do { config = try HostConfig.load(path: configPath) } catch { throw CommandFailure(error.description) }
        }
        var logger = Logger(label: "batchsender.operator")
        logger.logLevel = .error
        do {
            return try ProcessResources(databaseURL: environment.databaseURL, redisURL: environment.redisURL, natsURL: environment.natsURL,
                                        nats: NATSNamespace(deployment: config.deployment, nats: config.nats),
                                        masterKey: environment.masterKey, redisPrefix: config.api.redisKeyPrefix,
                                        plugins: PluginRegistry(), settings: PipelineSettings(), logger: logger)
        } catch {
            throw CommandFailure("cannot reach the servers: \(error)")
        }
    }

    /// The operators' dead letters over the process's connections.
    package static func deadLetters(_ resources: ProcessResources) -> DeadLetterService {
        DeadLetterService(database: resources.database, delivery: resources.hot,
                          tenants: TenantQueues(registry: resources.tenants, bus: resources.bus, ackWaitMs: resources.settings.ackWaitMs, clock: .system),
                          bus: resources.bus)
    }
}
