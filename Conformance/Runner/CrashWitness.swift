#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Remembers, in the child, which input is being fed to the plugin, so that
/// if the plugin crashes (or the parent stops it for hanging) the parent is
/// told the input that did it. The line is encoded before each call; the
/// signal handler only write()s it, which is async-signal-safe.
enum CrashWitness {
    nonisolated(unsafe) private static var line: UnsafeMutableRawBufferPointer?

    static func install() {
        for signal in [SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTERM] {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { signal in
                if let line = CrashWitness.line, let base = line.baseAddress {
                    _ = write(1, base, line.count)
                }
                Glibc.signal(signal, SIG_DFL)
                raise(signal)
            }
            sigemptyset(&action.sa_mask)
            action.sa_flags = 0
            sigaction(signal, &action, nil)
        }
    }

    /// Records the input of the next call: a description and its bytes.
    static func witness(_ description: String, input: [UInt8] = []) {
        let object: [String: String] = ["crash_input": description, "bytes_base64": Data(input).base64EncodedString()]
        guard let json = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else { return }
        let encoded = Array(json) + [UInt8(ascii: "\n")]
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: encoded.count, alignment: 1)
        buffer.copyBytes(from: encoded)
        let old = line
        line = buffer
        old?.deallocate()
    }

    static func clear() {
        let old = line
        line = nil
        old?.deallocate()
    }
}
