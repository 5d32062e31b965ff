import App
import Foundation
import HostCore
import ProviderModel

/// Reading the files a command is given, with errors that name the option and the problem.
enum CommandInput {
    static func bytes(_ path: String, option: String) throws(CommandFailure) -> [UInt8] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else {
            throw CommandFailure("\(option) \(path): no such file")
        }
        guard let handle = FileHandle(forReadingAtPath: path), let data = try? handle.readToEnd() ?? Data() else {
            throw CommandFailure("\(option) \(path): cannot read the file")
        }
        return Array(data)
    }

    static func json(_ path: String, option: String) throws(CommandFailure) -> JSONValue {
        let bytes = try bytes(path, option: option)
        do {
            return try JSONDecoder().decode(JSONValue.self, from: Data(bytes))
        } catch {
            throw CommandFailure("\(option) \(path): not valid JSON (\(describe(error)))")
        }
    }

    static func object(_ path: String, option: String) throws(CommandFailure) -> [String: JSONValue] {
        guard case .object(let object) = try json(path, option: option) else {
            throw CommandFailure("\(option) \(path): expected a JSON object")
        }
        return object
    }

    static func configuration(_ path: String) throws(CommandFailure) -> [KeyValue] {
        let object = try object(path, option: "--config")
        do {
            return try PluginConfiguration.entries(fromJSON: object)
        } catch {
            throw CommandFailure("--config \(path): \(error.field): \(error.message)")
        }
    }

    static func headers(_ path: String?) throws(CommandFailure) -> [KeyValue] {
        guard let path else { return [] }
        var headers: [KeyValue] = []
        for (name, value) in try object(path, option: "--headers").sorted(by: { $0.key < $1.key }) {
            guard case .string(let text) = value else {
                throw CommandFailure("--headers \(path): header \"\(name)\" must have a string value")
            }
            headers.append(KeyValue(name, text))
        }
        return headers
    }

    static func messages(_ path: String) throws(CommandFailure) -> [OutboundMessage] {
        let bytes = try bytes(path, option: "--messages")
        let messages: [OutboundMessage]
        do {
            messages = try JSONDecoder().decode([OutboundMessage].self, from: Data(bytes))
        } catch {
            throw CommandFailure("--messages \(path): \(describe(error, root: "messages"))")
        }
        guard !messages.isEmpty else { throw CommandFailure("--messages \(path): the array is empty") }
        return messages
    }

    static func plugin(_ path: String) throws(CommandFailure) -> LoadedPlugin {
        do {
            return try PluginLoader.load(path: path)
        } catch {
            throw CommandFailure(error.description)
        }
    }

    static func instance(_ plugin: LoadedPlugin, config path: String, services: HostServices) throws(CommandFailure) -> PluginInstance {
        let entries = try configuration(path)
        do {
            return try plugin.makeInstance(configuration: entries, services: services)
        } catch {
            throw CommandFailure("--config \(path): plugin \(plugin.id) refused it: \(error.description)")
        }
    }

    private static func describe(_ error: Error, root: String = "") -> String {
        guard let error = error as? DecodingError else { return error.localizedDescription }
        let text = error.readable
        return root.isEmpty ? text : root + (text.hasPrefix("[") ? "" : ": ") + text
    }
}
