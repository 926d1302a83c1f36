import AirlockCore
import CZlib
import Foundation

/// Reads one member out of a zip archive (a Python wheel) without unpacking the rest: the central
/// directory is read from the end, the member is inflated in chunks straight to a file, and its
/// CRC-32 (from the archive) and SHA-256 (from the lock) are both checked.
struct WheelReader {
    /// The archive.
    let archive: URL

    /// Bytes inflated per step.
    static let chunkBytes = 1 << 20
    /// The end-of-central-directory record is in the archive's last 64 KiB + 22 bytes.
    static let maxTrailerBytes = (64 << 10) + 22

    private struct Entry {
        var method: UInt16
        var crc32: UInt32
        var compressedSize: UInt64
        var size: UInt64
        var localHeaderOffset: UInt64
    }

    /// Extracts `member` to `destination` (through a `.partial` file renamed when both checks pass).
    /// - Throws: ``ModelRuntimeError`` `bad-archive` (malformed, member missing, CRC wrong),
    ///   `digest-mismatch` (SHA-256 not the pinned one), `io`.
    func extract(_ member: String, to destination: URL, expectedSHA256: String) throws(ModelRuntimeError) {
        guard let handle = FileHandle(forReadingAtPath: archive.path) else {
            throw ModelRuntimeError(.io, "cannot open \(archive.path)")
        }
        defer { try? handle.close() }
        let entry = try find(member, handle: handle)
        let partial = destination.path + ".partial"
        guard FileManager.default.createFile(atPath: partial, contents: nil, attributes: [.posixPermissions: 0o644]),
            let output = FileHandle(forWritingAtPath: partial)
        else { throw ModelRuntimeError(.io, "cannot create \(partial)") }
        let (crc, digest): (UInt32, String)
        do {
            defer { try? output.close() }
            (crc, digest) = try copy(entry, member: member, from: handle, to: output)
        } catch {
            unlink(partial)
            throw error
        }
        guard crc == entry.crc32 else {
            unlink(partial)
            throw ModelRuntimeError(.badArchive, "\(archive.lastPathComponent): \(member) fails its CRC-32 check")
        }
        guard digest == expectedSHA256 else {
            unlink(partial)
            throw ModelRuntimeError(
                .digestMismatch,
                "\(member) from \(archive.lastPathComponent) does not match its pin: expected sha256 \(expectedSHA256), got \(digest); nothing was installed"
            )
        }
        try FileOperations.moveReplacing(partial, to: destination.path)
    }

    private func read(_ handle: FileHandle, at offset: UInt64, count: Int) throws(ModelRuntimeError) -> [UInt8] {
        do {
            try handle.seek(toOffset: offset)
            let data = try handle.read(upToCount: count) ?? Data()
            guard data.count == count else {
                throw ModelRuntimeError(.badArchive, "\(archive.lastPathComponent): truncated")
            }
            return Array(data)
        } catch let error as ModelRuntimeError {
            throw error
        } catch {
            throw ModelRuntimeError(.io, "cannot read \(archive.path)", cause: error)
        }
    }

    private func find(_ member: String, handle: FileHandle) throws(ModelRuntimeError) -> Entry {
        let size: UInt64
        do {
            size = try handle.seekToEnd()
        } catch {
            throw ModelRuntimeError(.io, "cannot read \(archive.path)", cause: error)
        }
        let trailerCount = Int(min(size, UInt64(Self.maxTrailerBytes)))
        guard trailerCount >= 22 else {
            throw ModelRuntimeError(.badArchive, "\(archive.lastPathComponent): not a zip archive")
        }
        let trailer = try read(handle, at: size - UInt64(trailerCount), count: trailerCount)
        guard
            let end = stride(from: trailer.count - 22, through: 0, by: -1).first(where: {
                trailer.u32($0) == 0x0605_4b50
            })
        else { throw ModelRuntimeError(.badArchive, "\(archive.lastPathComponent): no zip end-of-directory record") }
        let entries = Int(trailer.u16(end + 10))
        let directorySize = Int(trailer.u32(end + 12))
        let directoryOffset = UInt64(trailer.u32(end + 16))
        guard directoryOffset != 0xFFFF_FFFF, directoryOffset + UInt64(directorySize) <= size else {
            throw ModelRuntimeError(.badArchive, "\(archive.lastPathComponent): zip64 or damaged central directory")
        }
        let directory = try read(handle, at: directoryOffset, count: directorySize)
        var at = 0
        for _ in 0..<entries {
            guard at + 46 <= directory.count, directory.u32(at) == 0x0201_4b50 else {
                throw ModelRuntimeError(.badArchive, "\(archive.lastPathComponent): damaged central directory")
            }
            let nameLength = Int(directory.u16(at + 28))
            let extraLength = Int(directory.u16(at + 30))
            let commentLength = Int(directory.u16(at + 32))
            guard at + 46 + nameLength <= directory.count else {
                throw ModelRuntimeError(.badArchive, "\(archive.lastPathComponent): damaged central directory")
            }
            let name = String(decoding: directory[(at + 46)..<(at + 46 + nameLength)], as: UTF8.self)
            if name == member {
                let entry = Entry(
                    method: directory.u16(at + 10), crc32: directory.u32(at + 16),
                    compressedSize: UInt64(directory.u32(at + 20)), size: UInt64(directory.u32(at + 24)),
                    localHeaderOffset: UInt64(directory.u32(at + 42)))
                guard entry.compressedSize != 0xFFFF_FFFF, entry.size != 0xFFFF_FFFF,
                    entry.localHeaderOffset != 0xFFFF_FFFF
                else {
                    throw ModelRuntimeError(.badArchive, "\(archive.lastPathComponent): \(member) is a zip64 entry")
                }
                guard entry.method == 0 || entry.method == 8 else {
                    throw ModelRuntimeError(
                        .badArchive, "\(archive.lastPathComponent): \(member) uses compression method \(entry.method)")
                }
                return entry
            }
            at += 46 + nameLength + extraLength + commentLength
        }
        throw ModelRuntimeError(.badArchive, "\(archive.lastPathComponent) has no member \(member)")
    }

    /// Streams the member's data through inflate (or as stored) into `output`; returns the CRC-32
    /// and SHA-256 of what was written.
    private func copy(_ entry: Entry, member: String, from handle: FileHandle, to output: FileHandle)
        throws(ModelRuntimeError) -> (UInt32, String)
    {
        let header = try read(handle, at: entry.localHeaderOffset, count: 30)
        guard header.u32(0) == 0x0403_4b50 else {
            throw ModelRuntimeError(.badArchive, "\(archive.lastPathComponent): \(member) has no local header")
        }
        var remaining = entry.compressedSize
        var offset = entry.localHeaderOffset + 30 + UInt64(header.u16(26)) + UInt64(header.u16(28))
        let hasher = SHA256Hasher()
        var crc = UInt32(truncatingIfNeeded: crc32(0, nil, 0))
        var written: UInt64 = 0
        func emit(_ bytes: UnsafeRawBufferPointer) throws(ModelRuntimeError) {
            guard bytes.count > 0 else { return }
            hasher.update(bytes)
            crc = UInt32(
                truncatingIfNeeded: crc32(uLong(crc), bytes.bindMemory(to: Bytef.self).baseAddress, uInt(bytes.count)))
            written += UInt64(bytes.count)
            guard written <= entry.size else {
                throw ModelRuntimeError(.badArchive, "\(archive.lastPathComponent): \(member) inflates past its size")
            }
            do { try output.write(contentsOf: Data(bytes)) } catch {
                throw ModelRuntimeError(.io, "cannot write the extracted \(member)", cause: error)
            }
        }
        var stream = z_stream()
        if entry.method == 8 {
            guard inflateInit2_(&stream, -MAX_WBITS, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
                throw ModelRuntimeError(.io, "zlib could not start")
            }
        }
        defer { if entry.method == 8 { inflateEnd(&stream) } }
        let out = UnsafeMutableRawBufferPointer.allocate(byteCount: Self.chunkBytes, alignment: 16)
        defer { out.deallocate() }
        var finished = false
        while remaining > 0 && !finished {
            let count = Int(min(remaining, UInt64(Self.chunkBytes)))
            let input = try read(handle, at: offset, count: count)
            offset += UInt64(count)
            remaining -= UInt64(count)
            let inputBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: count, alignment: 16)
            defer { inputBuffer.deallocate() }
            inputBuffer.copyBytes(from: input)
            if entry.method == 0 {
                try emit(UnsafeRawBufferPointer(inputBuffer))
                continue
            }
            stream.next_in = inputBuffer.bindMemory(to: Bytef.self).baseAddress
            stream.avail_in = uInt(count)
            repeat {
                stream.next_out = out.bindMemory(to: Bytef.self).baseAddress
                stream.avail_out = uInt(out.count)
                let status = inflate(&stream, Z_NO_FLUSH)
                guard status == Z_OK || status == Z_STREAM_END || status == Z_BUF_ERROR else {
                    throw ModelRuntimeError(
                        .badArchive,
                        "\(archive.lastPathComponent): \(member) is not valid deflate data (zlib \(status))")
                }
                let produced = out.count - Int(stream.avail_out)
                try emit(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(out)[0..<produced]))
                if status == Z_STREAM_END {
                    finished = true
                    break
                }
                if status == Z_BUF_ERROR && produced == 0 { break }
            } while stream.avail_out == 0 || stream.avail_in > 0
        }
        guard written == entry.size else {
            throw ModelRuntimeError(
                .badArchive, "\(archive.lastPathComponent): \(member) inflates to \(written) bytes, not \(entry.size)")
        }
        return (crc, Hex.encode(hasher.finalize()))
    }
}

extension [UInt8] {
    /// The little-endian 16-bit value at `offset`.
    fileprivate func u16(_ offset: Int) -> UInt16 { UInt16(self[offset]) | UInt16(self[offset + 1]) << 8 }
    /// The little-endian 32-bit value at `offset`.
    fileprivate func u32(_ offset: Int) -> UInt32 {
        UInt32(self[offset]) | UInt32(self[offset + 1]) << 8 | UInt32(self[offset + 2]) << 16
            | UInt32(self[offset + 3]) << 24
    }
}
