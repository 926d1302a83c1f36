/// Owns C strings and arrays handed to the C shim for the duration of one spawn.
///
/// The child reads them between clone and execve without allocating, so they must be built
/// before the clone and stay put until `al_start` returns (or, for a base plan, for as long as a
/// child built from it may read it); everything is freed on deinit.
final class CStringArena {
    private var releases: [() -> Void] = []

    /// A NUL-terminated copy of `string`.
    func string(_ string: String) -> UnsafeMutablePointer<CChar> {
        let utf8 = Array(string.utf8CString)
        return array(utf8)
    }

    /// A NULL-terminated array of NUL-terminated copies (argv, envp).
    func stringArray(_ strings: [String]) -> UnsafeMutablePointer<UnsafeMutablePointer<CChar>?> {
        var pointers: [UnsafeMutablePointer<CChar>?] = strings.map { string($0) }
        pointers.append(nil)
        return array(pointers)
    }

    /// A copy of `values` in stable memory (at least one element is allocated).
    func array<T>(_ values: [T]) -> UnsafeMutablePointer<T> {
        let buffer = UnsafeMutablePointer<T>.allocate(capacity: max(values.count, 1))
        if !values.isEmpty { buffer.initialize(from: values, count: values.count) }
        let count = values.count
        releases.append {
            buffer.deinitialize(count: count)
            buffer.deallocate()
        }
        return buffer
    }

    deinit {
        for release in releases { release() }
    }
}
